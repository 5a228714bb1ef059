"""The hybrid extractor: rules and LLM both read the Unit and their Facts are merged.

Items are matched by where their numbers stand in the text (or by name); a value both agree on
is kept once, a value only one side found is kept, and where they disagree the rules' value,
read from the document's structure, wins and the disagreement is counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from auditor.extract import Extractor, ExtractResult
from auditor.extract.llm import QuoteFinder
from auditor.facts import Claim, Evidence, Facts, FundFlow, Indicator, Quantity, Rating, ScoreNode
from auditor.units import Unit

_FLOW_FIELDS = [k for k in FundFlow.model_fields if k not in {"name", "source", "inferred"}]
_IND_FIELDS = ["target", "target_high", "actual", "score", "max_score"]
_NODE_FIELDS = ["max_score", "score", "deduction"]


def _key(name: str) -> str:
    return re.sub(r"[\s（）()“”\"'、，,：:—\-·.．0-9]", "", name or "")


class _Merger:
    def __init__(self, unit: Unit) -> None:
        self.finder = QuoteFinder(unit.text, unit.start)
        self.disagreements = 0

    # ------------------------------------------------------------------ quantities
    def where(self, q: Quantity | None) -> int | None:
        """Document offset of the number itself (not of its quote), or None when unknown."""
        if q is None or q.evidence.start is None or q.evidence.end is None:
            return None
        return self.finder.number_span(q.evidence.start, q.evidence.end, q.text)[0]

    def same_place(self, a: Quantity | None, b: Quantity | None) -> bool:
        wa, wb = self.where(a), self.where(b)
        return wa is not None and wa == wb

    @staticmethod
    def agree(a: Quantity | None, b: Quantity | None) -> bool:
        if a is None or b is None:
            return True  # one side does not state it (a change whose last-year value is unstated)
        return a.value == b.value and (not a.unit or not b.unit or a.unit == b.unit)

    def field(self, keep: Any, name: str, other: Any) -> None:
        """Merge one Quantity field of a matched item: fill a gap from the LLM, count a conflict."""
        mine, theirs = getattr(keep, name), getattr(other, name)
        if theirs is None:
            return
        if mine is None:
            setattr(keep, name, theirs)
        elif not self.agree(mine, theirs):
            self.disagreements += 1

    def values(self, qs: list[Quantity]) -> list[tuple[Decimal, str]]:
        return sorted((q.value, q.unit) for q in qs)

    # ------------------------------------------------------------------ items
    def flows(self, mine: list[FundFlow], theirs: list[FundFlow]) -> None:
        for t in theirs:
            match = next(
                (m for m in mine if any(self.same_place(getattr(m, k), getattr(t, k)) for k in _FLOW_FIELDS)), None
            )
            if match is None:
                match = next((m for m in mine if _key(m.name) and _key(m.name) == _key(t.name)), None)
            if match is None:
                mine.append(t)
                continue
            for k in _FLOW_FIELDS:
                self.field(match, k, t)

    def claims_of(self, mine: list[Any], theirs: list[Any], head: str, parts: tuple[str, ...]) -> None:
        """Sums, ratios and changes: matched by where their headline number stands, else by label."""
        for t in theirs:
            match = next((m for m in mine if self.same_place(getattr(m, head), getattr(t, head))), None)
            if match is None:
                match = next(
                    (
                        m
                        for m in mine
                        if _key(m.label)
                        and _key(m.label) == _key(t.label)
                        and self.agree(getattr(m, head), getattr(t, head))
                    ),
                    None,
                )
            if match is None:
                mine.append(t)
                continue
            same = self.agree(getattr(match, head), getattr(t, head))
            for p in parts:
                a, b = getattr(match, p), getattr(t, p)
                if isinstance(a, list):
                    same = same and self.values(a) == self.values(b)
                else:
                    same = same and self.agree(a, b)
            if not same:
                self.disagreements += 1

    def indicators(self, mine: list[Indicator], theirs: list[Indicator]) -> None:
        for t in theirs:
            match = next(
                (m for m in mine if any(self.same_place(getattr(m, k), getattr(t, k)) for k in _IND_FIELDS)), None
            )
            if match is None:
                match = next((m for m in mine if _key(m.name) and _key(m.name) == _key(t.name)), None)
            if match is None:
                mine.append(t)
                continue
            for k in _IND_FIELDS:
                self.field(match, k, t)

    def ratings(self, mine: list[Rating], theirs: list[Rating]) -> None:
        for t in theirs:
            match = next((m for m in mine if self.same_place(m.score, t.score)), None)
            if match is None and len(mine) == 1 and len(theirs) == 1:
                match = mine[0]
            if match is None:
                mine.append(t)
                continue
            self.field(match, "score", t)
            if match.grade is None and t.grade is not None:
                match.grade, match.grade_evidence = t.grade, t.grade_evidence
            if not match.bands and t.bands:
                match.bands = t.bands

    def nodes(self, mine: list[ScoreNode], theirs: list[ScoreNode], top: bool) -> None:
        for t in theirs:
            match = next(
                (m for m in mine if m.source == t.source and _key(m.name) and _key(m.name) == _key(t.name)), None
            )
            if match is None:
                if top or not mine:
                    mine.append(t)
                continue
            for k in _NODE_FIELDS:
                self.field(match, k, t)
            # A rules node keeps its own list of children: adding ones it did not see would change the sum.
            self.nodes(match.children, t.children, top=not match.children)

    @staticmethod
    def overlap(a: Evidence, b: Evidence) -> bool:
        if a.start is None or a.end is None or b.start is None or b.end is None:
            return bool(a.quote) and a.quote == b.quote
        return a.start < b.end and b.start < a.end

    def claims(self, mine: list[Claim], theirs: list[Claim]) -> None:
        self.located(mine, theirs, lambda x: x.evidence, same=lambda a, b: a.kind == b.kind)

    def located(
        self,
        mine: list[Any],
        theirs: list[Any],
        evidence: Callable[[Any], Evidence],
        same: Callable[[Any, Any], bool] = lambda a, b: True,
    ) -> None:
        """Items known by where they stand (claims, statements, mentions): the LLM's new ones are added."""
        for t in theirs:
            if not any(same(m, t) and self.overlap(evidence(m), evidence(t)) for m in mine):
                mine.append(t)


def merge_facts(rules: Facts, llm: Facts, unit: Unit) -> tuple[Facts, int]:
    """The rules' Facts completed with the LLM's; returns the merged Facts and the disagreement count."""
    out = rules.model_copy(deep=True)
    other = llm.model_copy(deep=True)
    m = _Merger(unit)
    m.flows(out.fund_flows, other.fund_flows)
    m.claims_of(out.sums, other.sums, "total", ("parts",))
    m.claims_of(out.ratios, other.ratios, "rate", ("numerator", "denominator"))
    m.claims_of(out.changes, other.changes, "change", ("before", "after"))
    m.indicators(out.indicators, other.indicators)
    m.ratings(out.ratings, other.ratings)
    m.nodes(out.scores, other.scores, top=True)
    m.claims(out.claims, other.claims)
    m.located(out.statements, other.statements, lambda x: x.evidence)
    m.located(out.fund_mentions, other.fund_mentions, lambda x: x.amount.evidence)
    m.located(out.restatements, other.restatements, lambda x: x.first.evidence)
    m.located(out.products, other.products, lambda x: x.amount.evidence)
    m.located(out.item_counts, other.item_counts, lambda x: x.count.evidence)
    out.fund = out.fund or other.fund
    out.dropped = rules.dropped + llm.dropped
    return out, m.disagreements


class HybridExtractor:
    """Runs the rules and the LLM extractor on each Unit and merges their Facts (rules win conflicts)."""

    name = "hybrid"

    def __init__(self, rules: Extractor, llm: Extractor) -> None:
        self.rules = rules
        self.llm = llm

    def extract(self, unit: Unit) -> ExtractResult:
        r = self.rules.extract(unit)
        lr = self.llm.extract(unit)  # an LLMError fails the Unit, as with --extractor llm
        facts, disagreements = merge_facts(r.facts, lr.facts, unit)
        return ExtractResult(
            facts=facts,
            extractor=self.name,
            llm_calls=lr.llm_calls,
            prompt_tokens=lr.prompt_tokens,
            completion_tokens=lr.completion_tokens,
            cached=lr.cached,
            disagreements=r.disagreements + lr.disagreements + disagreements,
        )
