"""Ratio readers: a stated percentage with the numerator and denominator its name points to."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("ratios.prose", "ratios.rates")


def ratios(text: str) -> list[tuple]:
    return [
        (q(r.rate), [q(x) for x in r.numerator], [q(x) for x in r.denominator], r.complement)
        for r in facts(text, "ratios.prose").ratios
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # 占…的 names the base
        (
            "公用经费120万元，占本年支出合计的15%。本年支出合计800万元。",
            [("15%", ["120万元"], ["800万元"], False)],
        ),
        # a completion rate of a count against its target
        ("计划完成改造任务80户，实际完成改造72户，完成率90%。", [("90%", ["72户"], ["80户"], False)]),
        # a pass rate as one minus the failures over the total checked
        (
            "共抽检样品200批次。其中不合格样品4批次，样品合格率98%。",
            [("98%", ["4批次"], ["200批次"], True)],
        ),
        # a threshold is no computed ratio
        ("全县参保人数50万人，参保率达到95%以上。", []),
    ],
)
def test_prose_ratios(text: str, want: list) -> None:
    assert ratios(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # …率 names its numerator by its stem; 应 names the base
        ("应到位68万元，实际到位21万元，到位率30.88%。", [("30.88%", ["21万元"], ["68万元"], False)]),
        # 完成预算的X%: the amount just before, against the budget the sentence names
        (
            "年初预算为683.51万元，支出决算为358.18万元，完成预算的52.4%。",
            [("52.4%", ["358.18万元"], ["683.51万元"], False)],
        ),
        # the base written inside the phrase: 完成年度目标245户的X%
        ("已竣工238户，完成年度目标245户的97.41%。", [("97.41%", ["238户"], ["245户"], False)]),
        # …and a share whose whole is written inside: 占设计规模4.00万吨/日的X%
        ("日均处理污水3.52万吨，占设计规模4.00万吨/日的88.0%。", [("88.0%", ["3.52万吨"], ["4.00万吨"], False)]),
        # the target stated after what was done
        ("全年带动增收5,486户，年度目标5,200户，完成目标的105.50%。", [("105.50%", ["5,486户"], ["5,200户"], False)]),
        # 超任务X%: actual over target, less one
        ("任务数为115户，实际完成改造264户，超任务129.57%。", [("129.57%", ["264户"], ["115户"], True)]),
        # an item of a list after ；: its base is not the total's budget stated before the list
        ("年初预算为683.51万元，支出决算为358.18万元；其中接待费决算为41.61万元，完成预算的22.12%。", []),
        # spending is never the base: 结转资金支出 is a part, not what the rate divides by
        ("共支出883.3万元，其中结转资金支出24.33万元，当年下达资金支出858.97万元，预算执行率为77.52%。", []),
        # a threshold is not a computed rate
        ("应到位68万元，实际到位68万元，到位率达到95%以上。", []),
    ],
)
def test_named_rates(text: str, want: list) -> None:
    got = facts(text, "ratios.rates").ratios
    assert [(q(r.rate), [q(x) for x in r.numerator], [q(x) for x in r.denominator], r.excess) for r in got] == want


def test_an_execution_rate_is_a_fund_flow() -> None:
    """执行率 against spending and the fund's amount goes to EXEC_RATE, which knows the bases to try."""
    got = facts("补助资金2.00万元，资金已使用2.00万元，结余0万元，资金执行率100%。", "ratios.rates").fund_flows
    assert [(q(f.spent), q(f.budget), q(f.rate)) for f in got] == [("2.00万元", "2.00万元", "100%")]


def test_a_share_right_after_its_part_names_its_whole_as_a_total() -> None:
    text = "共落实学生资助资金4,862.75万元。其中脱贫家庭学生资助资金2,145.30万元，占资助资金总额44.12%。"
    assert ratios(text) == [("44.12%", ["2,145.30万元"], ["4,862.75万元"], False)]


def test_a_range_is_no_ratio() -> None:
    assert ratios("救助限额为5万元，自付费用1万元以上部分按70%救助；特困人员救助比例为80%—100%。") == []


def test_an_excess_written_apart_from_its_figures() -> None:
    """超任务X% in a sentence of its own: the one target the report names and what its sentence says was done."""
    text = "全市改造任务数为115户，实际完成改造264户。\n我市实际改造数超任务43%。"
    got = facts(text, "ratios.rates").ratios
    assert [(q(r.rate), q(r.numerator[0]), q(r.denominator[0]), r.excess) for r in got] == [
        ("43%", "264户", "115户", True)
    ]
