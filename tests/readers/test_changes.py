"""Change readers: this year's value, last year's and the stated increase or decrease."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("changes.prose",)


def changes(text: str) -> list[tuple]:
    return [
        (q(c.before), q(c.after), q(c.change), c.direction, c.relative) for c in facts(text, "changes.prose").changes
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # both values and the change in one clause
        ("公务接待费12.5万元，较上年15万元下降16.67%。", [("15万元", "12.5万元", "16.67%", -1, True)]),
        ("培训人数360人，较去年300人增加60人。", [("300人", "360人", "60人", 1, False)]),
        # the change refers to a value stated elsewhere under its name
        (
            "本年下达资金550万元。下达资金较上年500万元增长10%。",
            [("500万元", "550万元", "10%", 1, True)],
        ),
        # last year's value stated after this year's, then the change
        ("2024年支出2,160万元，2023年为1,845万元，较上年增长17.07%。", [("1,845万元", "2,160万元", "17.07%", 1, True)]),
        # years compared are no change of a quantity
        ("2024年较2023年增加1年。", []),
        # 比上年 with last year's value, then the percent after a comma
        ("普通小学生均支出20018.65元，比上年17937.20元，增长11.6%。", [("17937.20元", "20018.65元", "11.6%", 1, True)]),
        # last year's value, the amount and the percent: checked both ways
        (
            "总收入144682.33万元，比上年151271.81万元减少6589.48万元，下降4.36%。",
            [
                ("151271.81万元", "144682.33万元", "6589.48万元", -1, False),
                ("151271.81万元", "144682.33万元", "4.36%", -1, True),
            ],
        ),
        # the subject named between the comparison and the verb, this year's value in the sentence before
        (
            "2020年一般公共预算财政拨款支出1264.92万元。与2019年相比，一般公共预算财政拨款增加27.44万元，增长2.22%。",
            [(None, "1264.92万元", "2.22%", 1, True)],
        ),
        # a comparison with the budget stands between this year's value and the one with last year
        ("总额为5.48万元，比预算增加0万元，比去年增加1.55万元，增长39.4%。", [(None, "5.48万元", "39.4%", 1, True)]),
        # only a percent: nothing to compute it from
        ("基金总收入30922.17亿元，比上年增长7.6%。", []),
    ],
)
def test_prose_changes(text: str, want: list) -> None:
    assert changes(text) == want


def test_a_percent_change_without_last_years_value_takes_the_amount() -> None:
    """比上年增加A，增长X%: last year's value is this year's less A."""
    got = facts("门诊次均费用154元，比上年增加7.5元，上涨5.1%。", "changes.prose").changes
    assert [(c.before, q(c.after), q(c.amount), q(c.change)) for c in got] == [(None, "154元", "7.5元", "5.1%")]


def test_last_years_value_stated_in_another_sentence() -> None:
    """较2023年下降X%: last year's value is the one a sentence about 2023 gives for the same thing."""
    text = "2023年全县粮食总产量为33.18万吨。2024年粮食总产量32.46万吨，较2023年下降2.17%。"
    assert changes(text) == [("33.18万吨", "32.46万吨", "2.17%", -1, True)]


def test_items_that_inherit_the_comparison() -> None:
    """…比2019年度减少A，下降P%。其中：X费支出决算减少B万元，下降Q%；…: X's value is named before."""
    text = (
        "公务接待费支出决算为41.61万元，公务用车购置及运行维护费支出决算为316.57万元。"
        "三公经费支出决算为358.18万元。三公经费支出决算比2019年度减少164.26万元，下降31.44%。"
        "其中：公务用车购置及运行维护费支出决算减少135.28万元，下降29.94%；公务接待费支出决算减少28.98万元，下降41.05%。"
    )
    got = [(c.label, q(c.after), q(c.amount), q(c.change)) for c in facts(text, "changes.prose").changes]
    assert got == [
        ("三公经费支出决算", "358.18万元", "164.26万元", "31.44%"),
        ("公务用车购置及运行维护费支出决算", "316.57万元", "135.28万元", "29.94%"),
        ("公务接待费支出决算", "41.61万元", "28.98万元", "41.05%"),
    ]


def test_the_subject_of_the_clause_before_a_bare_comparison() -> None:
    """X费支出决算比预算无增减变化，比去年增加A，增长P%: X is the subject; its value is stated before."""
    text = (
        "公务用车运行维护费支出决算3.98万元。"
        "公务用车运行维护费支出决算比预算无增减变化，比去年增加1.05万元，增长35.8%。"
    )
    got = [(q(c.after), q(c.amount), q(c.change)) for c in facts(text, "changes.prose").changes]
    assert got == [("3.98万元", "1.05万元", "35.8%")]
