"""The hybrid extractor: the rules always read the Unit, and a model's relations are added to what they found.

The model can add; it can never remove or change. A relation the rules already read is kept as the rules read
it. A model value standing on a number the rules read with another value, or in another role of a fund's
money, is a disagreement: reported, not used. If the model fails (the endpoint is down, the replies are
garbage), the Unit keeps its rules results with a warning naming the failure. A report telling the model to
find nothing can therefore lower nothing.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from auditor.errors import LLMError
from auditor.extract import ExtractResult
from auditor.extract.llm import LLMExtractor, QuoteFinder
from auditor.extract.rules import RulesExtractor
from auditor.facts import Facts, FundFlow, Quantity, ScoreNode, quantities
from auditor.units import Unit

_FLOW_FIELDS = [k for k in FundFlow.model_fields if k not in {"name", "source", "inferred"}]
_NODE_FIELDS = ["max_score", "score", "deduction"]
MAX_NOTES = 3  # disagreements spelled out in the detail column; the count has them all


@dataclass
class _Read:
    """What the rules read at one place of the text: the value, and the role it plays in a fund's money."""

    value: Decimal
    unit: str
    role: str = ""


@dataclass
class _Merger:
    unit: Unit
    finder: QuoteFinder = field(init=False)
    read: dict[int, list[_Read]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.finder = QuoteFinder(self.unit.text, self.unit.start)

    def where(self, q: Quantity | None) -> int | None:
        """Document offset of the number itself (not of its quote), or None when unknown."""
        if q is None or q.evidence.start is None or q.evidence.end is None:
            return None
        return self.finder.number_span(q.evidence.start, q.evidence.end, q.text)[0]

    def learn(self, rules: Facts) -> None:
        """Index every number the rules read by where it stands, with its role when it is a fund's money."""
        roles: dict[int, str] = {}
        for flow in rules.fund_flows:
            for k in _FLOW_FIELDS:
                at = self.where(getattr(flow, k))
                if at is not None:
                    roles[at] = k
        for q in quantities(rules):
            at = self.where(q)
            if at is not None:
                self.read.setdefault(at, []).append(_Read(q.value, q.unit, roles.get(at, "")))

    def conflict(self, q: Quantity, role: str = "") -> str:
        """Why a model value cannot stand beside what the rules read at its place ("" when it can)."""
        at = self.where(q)
        name = q.label or q.evidence.quote
        for r in self.read.get(at, []) if at is not None else []:
            if r.value != q.value or (q.unit and r.unit and q.unit != r.unit):
                return f"“{name}”规则读为{r.value}{r.unit}，模型读为{q.value}{q.unit}"
            if role and r.role and role != r.role:
                ours, theirs = _ROLE_ZH.get(r.role, r.role), _ROLE_ZH.get(role, role)
                return f"“{name}”{q.text}{q.unit}：规则读作{ours}，模型读作{theirs}"
        return ""

    def known(self, q: Quantity | None) -> bool:
        at = self.where(q)
        return at is not None and at in self.read

    def usable(self, item: Any, roles: dict[int, str] | None = None) -> bool:
        """A model item none of whose values disagrees with the rules; a disagreement is recorded."""
        for q in quantities(item):
            why = self.conflict(q, (roles or {}).get(id(q), ""))
            if why:
                self.disagreements.append(why)
                return False
        return True

    # ------------------------------------------------------------------ choosing the model's relations
    def flows(self, mine: list[FundFlow], theirs: list[FundFlow], out: list[FundFlow]) -> None:
        """A model flow standing on none of the numbers the rules read as a fund's money is a fund they did not
        read; one that shares a number with a rules flow is that fund, and the rules' reading of it stands."""
        taken = {self.where(getattr(m, k)) for m in mine for k in _FLOW_FIELDS} - {None}
        for t in theirs:
            roles = {id(getattr(t, k)): k for k in _FLOW_FIELDS if getattr(t, k) is not None}
            if not self.usable(t, roles):
                continue
            if any(self.where(getattr(t, k)) in taken for k in _FLOW_FIELDS):
                continue
            out.append(t)

    def claims_of(self, mine: list[Any], theirs: list[Any], head: str, out: list[Any]) -> None:
        """Sums, ratios and changes: one whose headline number the rules read in such a relation is theirs."""
        heads = {self.where(getattr(m, head)) for m in mine} - {None}
        for t in theirs:
            if self.where(getattr(t, head)) in heads or not self.usable(t):
                continue
            out.append(t)

    def scores(self, theirs: list[ScoreNode], out: list[ScoreNode]) -> None:
        """A model score relation is added when the rules' tree holds none of its numbers."""
        for t in theirs:
            if any(self.known(q) for q in quantities(t)) or not self.usable(t):
                continue
            out.append(t)


_ROLE_ZH = {
    "allocated": "当年下达",
    "carryover": "上年结转",
    "available": "可用资金",
    "budget": "预算",
    "spent": "支出",
    "spent_carryover": "结转资金支出",
    "spent_current": "当年资金支出",
    "balance": "结余",
    "prior_balance": "上年结余",
    "closing_balance": "滚存结余",
    "rate": "执行率",
}


def merge_facts(rules: Facts, llm: Facts, unit: Unit) -> tuple[Facts, list[str]]:
    """The model's relations the rules did not read, as Facts of their own (the rules' Facts are not touched),
    and the disagreements, each one line."""
    added = Facts(fund=rules.fund or llm.fund, dropped=llm.dropped)
    other = llm.model_copy(deep=True)
    m = _Merger(unit)
    m.learn(rules)
    m.flows(rules.fund_flows, other.fund_flows, added.fund_flows)
    m.claims_of(rules.sums, other.sums, "total", added.sums)
    m.claims_of(rules.ratios, other.ratios, "rate", added.ratios)
    m.claims_of(rules.changes, other.changes, "change", added.changes)
    m.scores(other.scores, added.scores)
    return added, m.disagreements


class HybridExtractor:
    """The rules on each Unit, then a model's relations added (never removing or changing the rules' Facts)."""

    name = "hybrid"

    def __init__(self, rules: RulesExtractor, llm: LLMExtractor) -> None:
        self.rules = rules
        self.llm = llm

    def extract(self, unit: Unit) -> ExtractResult:
        return self.extract_all([unit])[0]

    def extract_all(self, units: list[Unit], pool: Executor | None = None) -> list[ExtractResult | Exception]:
        """Every Unit of a file: the rules' results, and the model's relations they did not read beside them. A
        Unit whose rules fail gets the exception in its place (it fails alone)."""
        ruled: list[ExtractResult | Exception] = []
        for u in units:
            try:
                ruled.append(self.rules.extract(u))
            except Exception as exc:
                ruled.append(exc)
        try:
            modelled: list[ExtractResult | LLMError] = list(self.llm.extract_all(units, pool))
        except LLMError as exc:
            modelled = [exc] * len(units)
        except Exception as exc:  # a reply nobody foresaw must not cost the rules' findings
            failure = LLMError(f"模型抽取出错：{type(exc).__name__}")
            modelled = [failure] * len(units)
        results: list[ExtractResult | Exception] = []
        # Said once per file, on its first report: a cache moved aside or turned off.
        notes = self.llm.take_notes()
        for unit, r, m in zip(units, ruled, modelled, strict=True):
            if isinstance(r, Exception):
                results.append(r)
                continue
            result = ExtractResult(facts=r.facts, extractor=self.name, notes=notes)
            notes = []
            if isinstance(m, LLMError):
                result.warnings.append(f"{m.reason}；本报告只有规则读出的结果")
                results.append(result)
                continue
            try:
                added, disagreements = merge_facts(r.facts, m.facts, unit)
            except Exception as exc:
                result.warnings.append(f"模型的读数无法并入（{type(exc).__name__}）；本报告只有规则读出的结果")
                results.append(result)
                continue
            result.added = added
            result.llm_calls, result.prompt_tokens = m.llm_calls, m.prompt_tokens
            result.completion_tokens, result.cached = m.completion_tokens, m.cached
            result.disagreements = len(disagreements)
            result.notes.extend(m.notes)
            if disagreements:
                spelled = "；".join(disagreements[:MAX_NOTES])
                result.notes.append(f"模型与规则读数不一致{len(disagreements)}处，未采用模型的读数：{spelled}")
            results.append(result)
        return results
