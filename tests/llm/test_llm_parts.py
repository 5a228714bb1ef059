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
    assert p.version and "{sections}" in p.user and "quote" in p.system
    rendered = p.render(sections="原文{x}")
    assert "原文{x}" in rendered and "{sections}" not in rendered
    # A fixed prefix first, the report text last: providers' prompt caching then reuses everything before it.
    assert rendered.endswith("原文{x}")


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
    def __init__(self, name: str, facts: Facts | Exception, calls: int = 0) -> None:
        self.name, self.facts, self.calls = name, facts, calls

    def extract(self, unit: object) -> ExtractResult:
        if isinstance(self.facts, Exception):
            raise self.facts
        return ExtractResult(facts=self.facts.model_copy(deep=True), extractor=self.name, llm_calls=self.calls)

    def extract_all(self, units: list[object], pool: object = None) -> list[ExtractResult]:
        return [self.extract(u) for u in units]

    def take_notes(self) -> list[str]:
        return []


RULES_FLOW = Facts(
    fund_flows=[
        FundFlow(
            name="补助资金", allocated=qty("当年下达资金1,108万元", "1,108"), spent=qty("实际支出883.3万元", "883.3")
        )
    ]
)
MODEL_SUM = SumClaim(
    label="合计",
    total=qty("合计1133.73万元", "1133.73"),
    parts=[qty("当年下达资金1,108万元", "1,108"), qty("上年结转25.73万元", "25.73")],
)


def test_hybrid_adds_the_relations_the_rules_did_not_read_beside_theirs() -> None:
    llm = Facts(
        fund_flows=[
            FundFlow(
                name="医疗补助资金",
                allocated=qty("当年下达资金1,108万元", "1,108"),
                rate=qty("预算执行率为77.52%", "77.52", "%"),
            )
        ],
        sums=[MODEL_SUM],
        dropped=2,
    )
    hybrid = HybridExtractor(rules=Fixed("rules", RULES_FLOW), llm=Fixed("llm", llm, calls=3))
    res = hybrid.extract(unit_of(TEXT))
    assert res.extractor == "hybrid" and res.llm_calls == 3 and res.disagreements == 0
    # The rules' Facts are theirs alone: the model's flow shares a number with the rules' flow (the same fund), so
    # the rules' reading of that fund stands and no rate is slipped into it.
    assert res.facts == RULES_FLOW
    assert res.added is not None and res.added.fund_flows == [] and res.added.sums == [MODEL_SUM]
    assert res.added.dropped == 2


def test_a_model_value_that_disagrees_with_the_rules_is_reported_not_used() -> None:
    misread = qty("实际支出883.3万元", "883.3").model_copy(update={"value": Decimal("833.3")})
    llm = Facts(
        fund_flows=[FundFlow(name="补助资金", spent=misread, rate=qty("预算执行率为77.52%", "77.52", "%"))],
        sums=[MODEL_SUM],
    )
    res = HybridExtractor(rules=Fixed("rules", RULES_FLOW), llm=Fixed("llm", llm)).extract(unit_of(TEXT))
    assert res.facts == RULES_FLOW and res.added is not None and res.added.fund_flows == []
    assert res.disagreements == 1 and "833.3" in res.notes[0] and "883.3" in res.notes[0]
    assert res.added.sums == [MODEL_SUM]  # the model's other relation stands on its own


def test_a_model_value_in_another_role_than_the_rules_read_is_not_used() -> None:
    as_budget = qty("实际支出883.3万元", "883.3")
    llm = Facts(fund_flows=[FundFlow(name="补助资金", budget=as_budget, rate=qty("预算执行率为77.52%", "77.52", "%"))])
    res = HybridExtractor(rules=Fixed("rules", RULES_FLOW), llm=Fixed("llm", llm)).extract(unit_of(TEXT))
    assert res.disagreements == 1 and "支出" in res.notes[0] and "预算" in res.notes[0]
    assert res.facts == RULES_FLOW and res.added is not None and res.added.fund_flows == []


def test_a_failing_model_leaves_the_rules_results_and_a_warning() -> None:
    from auditor.errors import LLMError

    for failure in (LLMError("LLM 抽取失败（m，共4次请求）：连接失败或被中断"), RuntimeError("boom")):
        res = HybridExtractor(rules=Fixed("rules", RULES_FLOW), llm=Fixed("llm", failure)).extract(unit_of(TEXT))
        assert isinstance(res, ExtractResult) and res.facts == RULES_FLOW and res.extractor == "hybrid"
        assert res.added is None
        assert len(res.warnings) == 1 and "只有规则读出的结果" in res.warnings[0]


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
    added, disagreements = merge_facts(facts, facts, unit_of(TEXT))
    assert disagreements == [] and added.fund_flows == [] and added.sums == []


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
    added, disagreements = merge_facts(rules, llm, unit_of(TEXT))
    assert disagreements == [] and added.changes == []  # the rules read that change: theirs stands
