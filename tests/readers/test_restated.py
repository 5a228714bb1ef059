"""Prose restatement reader: the same named figure stated again later in the text."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("restated.prose",)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # the lead and the body give one figure
        (
            "2024年城乡医疗救助资金总额1,846.30万元。\n（一）问题。2024年城乡医疗救助资金总额1,846.30万元，已纳入专户。",
            [("1,846.30万元", "1,846.30万元")],
        ),
        # …and a slip of the pen between them (two digits swapped) is found
        (
            "一般公共预算财政拨款支出4,998.66万元。\n三、一般公共预算财政拨款支出4,989.66万元，主要用于卫生健康。",
            [("4,989.66万元", "4,998.66万元")],
        ),
        # two different figures under one name are two things, not a slip
        ("涉及小型水库工程61座。\n其中病险整治涉及小型水库工程58座。", []),
        # small numbers differing in one digit: as likely two figures as one miswritten
        ("小流域综合治理工程300万元。\n另一文件下达小流域综合治理工程700万元。", []),
        # other years are other figures
        ("2023年城乡医疗救助资金总额1,846.30万元。\n2024年城乡医疗救助资金总额1,864.30万元。", []),
        # a short name names many things
        ("C级危房137户。\nC级危房140户。", []),
        # scores belong to the score readers
        ("该部分指标的评价得分为18分。\n该部分指标的评价得分为15分。", []),
    ],
)
def test_prose_restatements(text: str, want: list) -> None:
    got = facts(text, "restated.prose").restatements
    assert [(q(r.first), q(r.second)) for r in got] == want


def test_a_document_cited_twice_allocated_one_amount() -> None:
    text = (
        "财政局【2023】41号文件《关于下达2023年水利发展资金预算的通知》，下达本县2023年资金5万元。\n"
        "二、财政局【2023】41号文件《关于下达2023年水利发展资金预算的通知》，下达本县2023年山洪灾害防治设施维养6万元。\n"
    )
    got = facts(text, "restated.prose").restatements
    assert [(r.label, q(r.first), q(r.second)) for r in got] == [("文件【2023】41号下达", "5万元", "6万元")]
