"""Indicator readers: target, actual, score and reason of indicator rows; prose that beats a threshold."""

from __future__ import annotations

from ._read import facts, q

READERS = ("indicators.table", "indicators.prose")

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
