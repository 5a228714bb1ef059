"""Indicator readers: target, actual, score and reason of indicator rows; prose that beats a threshold."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("indicators.table", "indicators.prose", "indicators.targets")

TABLE = (
    "一级指标\t二级指标\t三级指标\t年度指标值\t实际完成值\t分值\t得分\t偏差原因分析及改进措施\n"
    "产出指标\t数量指标\t培训人数\t≥300人\t320人\t10\t10\t\n"
    "\t质量指标\t培训合格率\t≥95%\t92%\t10\t8\t部分学员未通过考核\n"
    "\t时效指标\t完成时间\t2024年12月底前\t2024年11月\t5\t5\t\n"
)


def test_table_indicators() -> None:
    got = facts(TABLE, "indicators.table").indicators
    assert [(i.name, i.op, q(i.target), q(i.actual), q(i.score), q(i.max_score), i.reason) for i in got] == [
        ("培训人数", ">=", "300人", "320人", "10分", "10分", ""),
        ("培训合格率", ">=", "95%", "92%", "8分", "10分", "部分学员未通过考核"),
    ]
    assert got[0].levels == ["产出指标", "数量指标"] and got[1].has_reason_column


def test_prose_comparisons() -> None:
    got = facts("群众满意度为96%，高于90%。住院费用报销比例72%，不低于70%。", "indicators.prose").indicators
    assert [(i.name, i.op, q(i.target), q(i.actual), i.claimed_met) for i in got] == [
        ("群众满意度", ">", "90%", "96%", True),
        ("住院费用报销比例", ">=", "70%", "72%", True),
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # a target, then what was achieved
        ("初筛调查完成率100%，实际完成107%。", [("初筛调查完成率", ">=", "100%", None, "107%")]),
        ("死因编码错误率小于5%，实际0.5%。", [("死因编码错误率", "<", "5%", None, "0.5%")]),
        ("肿瘤死亡发病比0.6-0.8，实际0.67。", [("肿瘤死亡发病比", "range", "0.6", "0.8", "0.67")]),
        ("局部用氟500人，实际完成509人。", [("局部用氟", ">=", "500", None, "509")]),
        # less is better and no operator is written: the target's direction is not known
        ("投诉发生率2%，实际1.5%。", []),
        # the target and the actual count different things
        ("培训500人，实际完成12场。", []),
    ],
)
def test_targets_and_actuals_in_prose(text: str, want: list) -> None:
    got = facts(text, "indicators.targets").indicators
    assert [(i.name, i.op, q(i.target), q(i.target_high), q(i.actual)) for i in got] == want
