"""The pieces of the LLM path without a server: chunking, prompts, cache, conversion guard, hybrid merge."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.errors import ConfigError
from auditor.extract import ExtractResult
from auditor.extract.cache import LLMCache, cache_key
from auditor.extract.llm import HANDLED_FIELDS, chunk_text, halve, load_prompt
from auditor.extract.merge import HybridExtractor, merge_facts
from auditor.facts import Evidence, Facts, FundFlow, Quantity, SumClaim

from .conftest import unit_of

TEXT = "当年下达资金1,108万元，上年结转25.73万元，合计1133.73万元。\n实际支出883.3万元，预算执行率为77.52%。\n"


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("资金万元。；\n\n\t 0123456789")), max_size=400),
    st.integers(min_value=5, max_value=120),
)
def test_chunks_cover_the_text_exactly_and_respect_the_limit(text: str, limit: int) -> None:
    chunks = chunk_text(text, limit)
    assert "".join(c for _, c in chunks) == text
    assert all(len(c) <= limit for _, c in chunks)
    assert all(text[o : o + len(c)] == c for o, c in chunks)


def test_chunks_cut_at_paragraphs_before_lines() -> None:
    text = "甲" * 40 + "\n" + "乙" * 40 + "\n\n" + "丙" * 40 + "\n" + "丁" * 40
    assert [c for _, c in chunk_text(text, 90)] == ["甲" * 40 + "\n" + "乙" * 40 + "\n\n", "丙" * 40 + "\n" + "丁" * 40]


def test_halve_cuts_near_the_middle_at_a_boundary() -> None:
    text = "一二三。\n\n" * 5 + "四五六。\n\n" * 5
    (_, a), (o2, b) = halve(text)
    assert a + b == text and o2 == len(a) and a.endswith("\n\n") and abs(len(a) - len(b)) <= 7


def test_the_prompt_file_has_a_version_and_both_parts() -> None:
    p = load_prompt()
    assert p.version and "{text}" in p.user and "quote" in p.system
    rendered = p.render(title="T", fund="F", year="2024", part="全文", text="原文{x}")
    assert "原文{x}" in rendered and "{title}" not in rendered


def test_a_malformed_prompt_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("no version here", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_prompt("bad.md", tmp_path)
    with pytest.raises(ConfigError):
        load_prompt("missing.md", tmp_path)


def test_every_facts_field_is_handled_by_the_llm_schema() -> None:
    # When Facts grows, the LLM schema, the converter and tests/llm/record_seeds.py must grow with it.
    assert set(Facts.model_fields) == set(HANDLED_FIELDS)


def test_cache_round_trip_and_damaged_entries(tmp_path: Path) -> None:
    path = tmp_path / "c" / "llm.sqlite3"
    cache = LLMCache(path)
    key = cache_key(text_hash="h", model="m", base_url="u", mode="tools", prompt_version="1", schema_version="1")
    assert cache.get(key) is None
    cache.put(key, {"reply": {"fund_flows": []}}, model="m", prompt_version="1")
    assert LLMCache(path).get(key) == {"reply": {"fund_flows": []}}
    with sqlite3.connect(path) as db:
        db.execute("UPDATE replies SET value = 'not json'")
    assert cache.get(key) is None
    assert cache_key(a="1", b="2") == cache_key(b="2", a="1") != cache_key(a="1", b="3")


def test_default_cache_dir_is_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert LLMCache.default_path(None).parent == tmp_path / "auditor"
    assert LLMCache.default_path(tmp_path / "x") == tmp_path / "x" / "llm-cache.sqlite3"


# ----------------------------------------------------------------------------- hybrid


def qty(text: str, number: str, unit: str = "万元") -> Quantity:
    start = TEXT.index(text)
    return Quantity(
        value=Decimal(number.replace(",", "")),
        unit=unit,
        text=number,
        decimals=len(number.partition(".")[2]),
        evidence=Evidence(quote=text, start=start, end=start + len(text)),
    )


class Fixed:
    def __init__(self, name: str, facts: Facts, calls: int = 0) -> None:
        self.name, self.facts, self.calls = name, facts, calls

    def extract(self, unit: object) -> ExtractResult:
        return ExtractResult(facts=self.facts.model_copy(deep=True), extractor=self.name, llm_calls=self.calls)


def test_hybrid_keeps_agreed_values_once_and_rules_win_disagreements() -> None:
    rules = Facts(
        fund_flows=[
            FundFlow(
                name="补助资金",
                allocated=qty("当年下达资金1,108万元", "1,108"),
                spent=qty("实际支出883.3万元", "883.3"),
            )
        ]
    )
    llm = Facts(
        fund_flows=[
            FundFlow(
                name="医疗补助资金",
                allocated=qty("当年下达资金1,108万元", "1,108"),
                spent=qty("实际支出883.3万元", "883.3").model_copy(update={"value": Decimal("833.3")}),
                rate=qty("预算执行率为77.52%", "77.52", "%"),
            )
        ],
        sums=[
            SumClaim(
                label="合计",
                total=qty("合计1133.73万元", "1133.73"),
                parts=[qty("当年下达资金1,108万元", "1,108"), qty("上年结转25.73万元", "25.73")],
            )
        ],
        dropped=2,
    )
    hybrid = HybridExtractor(rules=Fixed("rules", rules), llm=Fixed("llm", llm, calls=3))
    res = hybrid.extract(unit_of(TEXT))
    assert res.extractor == "hybrid" and res.llm_calls == 3
    assert len(res.facts.fund_flows) == 1  # matched by where its numbers stand, not by name
    flow = res.facts.fund_flows[0]
    assert flow.spent is not None and flow.spent.value == Decimal("883.3")  # rules win
    assert flow.rate is not None and flow.rate.value == Decimal("77.52")  # the LLM fills a gap
    assert res.disagreements == 1
    assert len(res.facts.sums) == 1 and res.facts.dropped == 2


def test_hybrid_with_identical_facts_changes_nothing() -> None:
    facts = Facts(
        fund_flows=[FundFlow(name="补助资金", spent=qty("实际支出883.3万元", "883.3"))],
        sums=[
            SumClaim(
                label="合计",
                total=qty("合计1133.73万元", "1133.73"),
                parts=[qty("当年下达资金1,108万元", "1,108"), qty("上年结转25.73万元", "25.73")],
            )
        ],
    )
    merged, n = merge_facts(facts, facts, unit_of(TEXT))
    assert n == 0 and merged == facts


def test_hybrid_merges_a_change_whose_last_year_value_one_side_leaves_unstated() -> None:
    """The rules read 比上年增加A，增长X% without last year's value; the model may state one: no conflict."""
    from auditor.facts import ChangeClaim

    rules = Facts(
        changes=[
            ChangeClaim(
                label="支出",
                before=None,
                after=qty("实际支出883.3万元", "883.3"),
                change=qty("预算执行率为77.52%", "77.52", "%"),
                amount=qty("上年结转25.73万元", "25.73"),
                direction=1,
                relative=True,
            )
        ]
    )
    llm = Facts(changes=[rules.changes[0].model_copy(update={"before": qty("合计1133.73万元", "1133.73")})])
    merged, n = merge_facts(rules, llm, unit_of(TEXT))
    assert n == 0 and merged.changes == rules.changes
