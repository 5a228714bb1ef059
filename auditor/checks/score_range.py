"""SCORE_RANGE: scores outside [0, weight] and deductions that are not weight − score."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, make_flag
from auditor.facts import Facts, Quantity, ScoreNode
from auditor.flags import Flag, Severity


def _range(name: str, sc: Quantity, mx: Quantity | None) -> Iterator[Flag]:
    """One row for 0 ≤ score ≤ weight (or score ≥ 0 when no weight is stated and the score is negative)."""
    if sc.value < 0:
        yield make_flag(
            "SCORE_RANGE",
            Severity.ERROR,
            f"“{name}”得分{sc.text}分为负数",
            sc,
            "0",
            sc.text,
            [sc.evidence],
            formula=f"0 ≤ {sc.text}",
        )
        return
    if mx is None:
        return
    above = sc.interval.lo > mx.interval.hi
    yield make_flag(
        "SCORE_RANGE",
        Severity.ERROR,
        f"“{name}”得分{sc.text}分{'高于' if above else '未超过'}其分值{mx.text}分",
        sc,
        mx.text,
        computed_text(sc.interval - mx.interval, sc.decimals),
        [sc.evidence, mx.evidence],
        formula=f"0 ≤ {sc.text} ≤ {mx.text}",
        ok=not above,
    )


def _walk(node: ScoreNode) -> Iterator[Flag]:
    mx, sc, de = node.max_score, node.score, node.deduction
    if sc is not None and not node.not_applicable:
        yield from _range(node.name, sc, mx)
    if de is not None and mx is not None and sc is not None:
        comp = mx.interval - sc.interval
        dec = max(de.decimals, sc.decimals)
        yield make_flag(
            "SCORE_RANGE",
            Severity.ERROR,
            f"“{node.name}”扣分写为{de.text}分，按分值{mx.text}−得分{sc.text}计算为{computed_text(comp, dec)}分",
            de,
            computed_text(comp, dec),
            diff_text(de, comp, dec),
            [de.evidence, sc.evidence],
            formula=f"{mx.text}−{sc.text} = {de.text}",
            ok=consistent(de, comp),
        )
    for c in node.children:
        yield from _walk(c)


@register("SCORE_RANGE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A score above its weight or below zero; a deduction ≠ weight − score."""
    seen: set[int | None] = set()
    for root in facts.scores:
        for row in _walk(root):
            seen.add(row.end)
            yield row
    for ind in facts.indicators:
        # An indicator row with its own 分值 and 得分 columns that no score tree holds.
        if ind.score is not None and ind.score.evidence.end not in seen:
            yield from _range(ind.name, ind.score, ind.max_score)
