"""SCORE_SUM: a parent's weight and score against the sums of its children's."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, make_flag
from auditor.facts import Facts, Quantity, ScoreNode
from auditor.flags import Flag, Severity
from auditor.intervals import Interval, total


def effective_max(node: ScoreNode) -> Interval | None:
    if node.max_score is not None:
        return node.max_score.interval
    kids = [effective_max(c) for c in node.children]
    if node.children and all(k is not None for k in kids):
        return total([k for k in kids if k is not None])
    return None


def effective_score(node: ScoreNode) -> Interval | None:
    """The stated score, else full marks for 不适用/不扣分, else the children's sum."""
    if node.score is not None:
        return node.score.interval
    if node.not_applicable and node.max_score is not None:
        return node.max_score.interval
    kids = [effective_score(c) for c in node.children]
    if node.children and all(k is not None for k in kids):
        return total([k for k in kids if k is not None])
    return None


def _dec(qs: list[Quantity | None]) -> int:
    return max([q.decimals for q in qs if q is not None] or [0])


def _walk(node: ScoreNode) -> Iterator[Flag]:
    kids = node.children
    # One lone child is a partial description more often than a tree; it proves nothing.
    if len(kids) >= 2:
        where = "文字" if node.source == "prose" else "表格"
        for field, word, effective in (("max_score", "分值", effective_max), ("score", "得分", effective_score)):
            stated: Quantity | None = getattr(node, field)
            values = [effective(c) for c in kids]
            if stated is None or any(v is None for v in values):
                continue
            comp = total([v for v in values if v is not None])
            dec = _dec([stated, *(getattr(c, field) for c in kids)])
            # a child without its own figure shows the sum of its children's
            parts = "+".join(
                getattr(c, field).text if getattr(c, field) else computed_text(v, dec)  # type: ignore[arg-type]
                for c, v in zip(kids, values, strict=True)
            )
            yield make_flag(
                "SCORE_SUM",
                Severity.ERROR,
                f"{where}中“{node.name}”{word}写为{stated.text}分，下级指标{word}{parts}合计为"
                f"{computed_text(comp, dec)}分",
                stated,
                computed_text(comp, dec),
                diff_text(stated, comp, dec),
                [stated.evidence, *(getattr(c, field).evidence for c in kids if getattr(c, field))],
                formula=f"{parts} = {stated.text}",
                ok=consistent(stated, comp),
            )
    for c in kids:
        yield from _walk(c)


def _table_totals(facts: Facts) -> Iterator[Flag]:
    """A score table's 合计 row against the items it totals."""
    for s in facts.sums:
        if s.total.unit != "分" or not s.parts:
            continue
        comp = total([p.interval for p in s.parts])
        dec = _dec([s.total, *s.parts])
        parts = "+".join(p.text for p in s.parts)
        yield make_flag(
            "SCORE_SUM",
            Severity.ERROR,
            f"{s.label}写为{s.total.text}分，各项{parts}合计为{computed_text(comp, dec)}分",
            s.total,
            computed_text(comp, dec),
            diff_text(s.total, comp, dec),
            [s.total.evidence],
            formula=f"{parts} = {s.total.text}",
            ok=consistent(s.total, comp),
        )


@register("SCORE_SUM", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A parent's score or weight ≠ the sum of its children's, at every level, the 合计 rows and the total."""
    for root in facts.scores:
        yield from _walk(root)
    totals = list({(f.stated, f.computed): f for f in _totals(facts)}.values())
    yield from totals
    # One slip seen from two sides (the total score and the table's 合计 row) is one finding.
    seen = {(f.stated, f.computed) for f in totals if f.flagged}
    yield from (f for f in _table_totals(facts) if not (f.flagged and (f.stated, f.computed) in seen))


def _totals(facts: Facts) -> Iterator[Flag]:
    for rating in facts.ratings[:1]:
        for source in ("prose", "table"):
            roots = [r for r in facts.scores if r.source == source]
            maxes = [effective_max(r) for r in roots]
            scores = [effective_score(r) for r in roots]
            if not roots or any(m is None for m in maxes) or any(s is None for s in scores):
                continue
            if total([m for m in maxes if m is not None]).mid != Decimal(100):
                continue
            comp = total([s for s in scores if s is not None])
            dec = rating.score.decimals
            parts = "+".join(computed_text(s, dec) for s in scores if s is not None)
            yield make_flag(
                "SCORE_SUM",
                Severity.ERROR,
                f"总分写为{rating.score.text}分，各一级指标得分{parts}合计为{computed_text(comp, dec)}分",
                rating.score,
                computed_text(comp, dec),
                diff_text(rating.score, comp, dec),
                [rating.score.evidence],
                formula=f"{parts} = {rating.score.text}",
                ok=consistent(rating.score, comp),
            )
