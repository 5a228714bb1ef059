"""Splitting files into Units and reading layouts into Facts, on the seed reports."""

from __future__ import annotations

from decimal import Decimal

from auditor.documents import load
from auditor.extract.rules import extract_facts
from auditor.units import split

from .conftest import SEEDS


def units(name: str):  # type: ignore[no-untyped-def]
    return split(load(next(SEEDS.glob(f"{name}_*.txt"))))


def test_annexes_become_units_with_their_fund_and_year() -> None:
    us = units("002")
    assert [u.title.split("：")[0] for u in us[1:]] == ["附件1", "附件2", "附件3"]
    assert us[3].fund.startswith("医疗服务与保障能力提升补助资金")
    assert {u.year for u in us} == {"2024"}


def test_repeated_self_evaluation_tables_split() -> None:
    us = units("003")
    assert [u.fund for u in us] == [
        "城乡居民医保财政补助资金",
        "医疗救助财政补助资金",
        "医疗服务与保障能力提升补助资金（医疗保障服务能力提升部分）",
    ]
    assert all(u.year == "2023" for u in us)


def test_fund_flow_in_prose_with_carryover() -> None:
    [u] = units("000")
    [flow] = extract_facts(u).fund_flows
    assert (flow.carryover.value, flow.allocated.value, flow.spent.value) == (
        Decimal("77.40"),
        Decimal(437),
        Decimal("465.41"),
    )
    assert flow.rate.text == "90.48" and flow.balance.text == "48.99"


def test_fund_table_rows_and_their_sum() -> None:
    facts = extract_facts(units("003")[0])
    total = facts.fund_flows[0]
    assert total.name.startswith("年度资金总额") and total.budget.text == "138050.24"
    assert facts.sums[0].total.text == "138050.24"
    assert [p.text for p in facts.sums[0].parts][:2] == ["110750.93", "27299.31"]


def test_prose_score_tree_with_mixed_numbering() -> None:
    # 附件1 of 002 numbers 产出指标 "（3）" under "2.过程管理"; the weights settle the nesting.
    facts = extract_facts(units("002")[1])
    top = [(n.name, n.max_score.text) for n in facts.scores if n.source == "prose"]
    assert top == [
        ("项目决策", "20"),
        ("过程管理", "20"),
        ("产出指标", "37"),
        ("效益指标", "13"),
        ("满意度指标—服务对象满意度", "10"),
    ]


def test_score_table_with_first_level_only_on_its_first_row() -> None:
    facts = extract_facts(units("004")[1])
    table = [n for n in facts.scores if n.source == "table"]
    process = next(n for n in table if n.name == "过程管理")
    assert [c.name for c in process.children] == ["资金管理", "组织管理"]
    assert [c.score.text for c in process.children[0].children] == ["7.24", "3", "4"]


def test_indicator_rows_with_reason_column() -> None:
    inds = extract_facts(units("003")[0]).indicators
    people = next(i for i in inds if i.name.startswith("参保人数"))
    assert (people.op, people.target.text, people.actual.text) == (">=", "218", "216.96")
    assert people.reason.startswith("由于经济欠发达")
    months = next(i for i in inds if i.op == "range")
    assert (months.target.text, months.target_high.text, months.actual.text) == ("6", "9", "7")
