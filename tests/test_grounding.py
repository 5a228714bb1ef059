"""Grounding drops every number that does not stand verbatim in the report, and locates the rest."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from auditor.documents import load
from auditor.facts import Evidence, Facts, FundFlow, Quantity, SumClaim
from auditor.grounding import ground
from auditor.units import split

TEXT = (
    "一、基本情况\n"
    "2024年，该项目资金上年结转７７.４０万元，当年下达437万元，实际支出 465.41 万元，参保人数 202,992 人。\n"
)


def unit(tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "r.txt"
    f.write_text(TEXT, encoding="utf-8")
    return split(load(f))[0]


def q(text: str, quote: str, unit: str = "万元") -> Quantity:
    from auditor.numbers import parse

    value, dec = parse(text)  # type: ignore[misc]
    return Quantity(value=value, unit=unit, text=text, decimals=dec, evidence=Evidence(quote=quote))


def test_quotes_are_found_and_located(tmp_path: Path) -> None:
    u = unit(tmp_path)
    facts = ground(Facts(fund_flows=[FundFlow(name="x", spent=q("465.41", "实际支出465.41万元"))]), u)
    spent = facts.fund_flows[0].spent
    assert spent is not None and facts.dropped == 0
    assert TEXT[spent.evidence.start : spent.evidence.end] == "实际支出 465.41 万元"


def test_fullwidth_digits_and_thousands_separators(tmp_path: Path) -> None:
    u = unit(tmp_path)
    facts = ground(
        Facts(
            fund_flows=[
                FundFlow(name="x", carryover=q("77.40", "上年结转77.40万元"), allocated=q("437", "当年下达437万元"))
            ],
            sums=[
                SumClaim(
                    label="人", total=q("202992", "参保人数 202992 人", "人"), parts=[q("202,992", "202,992", "人")]
                )
            ],
        ),
        u,
    )
    assert facts.dropped == 0
    assert facts.fund_flows[0].carryover is not None and facts.fund_flows[0].carryover.value == Decimal("77.40")


def test_invented_numbers_are_dropped_and_counted(tmp_path: Path) -> None:
    u = unit(tmp_path)
    invented = [
        q("465.41", "上年结转77.40万元"),  # number not in its quote
        q("500", "实际支出500万元"),  # quote not in the text
        q("46", "实际支出 465.41 万元"),  # a number inside a longer one does not count
    ]
    flows = [FundFlow(name="x", spent=x) for x in invented]
    facts = ground(Facts(fund_flows=flows), u)
    assert facts.dropped == 3
    assert all(f.spent is None for f in facts.fund_flows)


def test_a_sum_that_loses_a_part_is_dropped_whole(tmp_path: Path) -> None:
    u = unit(tmp_path)
    s = SumClaim(label="x", total=q("514.40", "合计514.40万元"), parts=[q("437", "当年下达437万元")])
    s2 = SumClaim(label="y", total=q("437", "当年下达437万元"), parts=[q("77.40", "上年结转77.40万元"), q("1", "没有")])
    facts = ground(Facts(sums=[s, s2]), u)
    assert facts.sums == []


def test_value_must_agree_with_its_text(tmp_path: Path) -> None:
    u = unit(tmp_path)
    bad = Quantity(
        value=Decimal("999"), unit="万元", text="437", decimals=0, evidence=Evidence(quote="当年下达437万元")
    )
    facts = ground(Facts(fund_flows=[FundFlow(name="x", allocated=bad)]), u)
    assert facts.fund_flows[0].allocated is None and facts.dropped == 1
