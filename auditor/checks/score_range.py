"""SCORE_RANGE: scores outside [0, weight] and deductions that are not weight − score."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, make_flag
from auditor.facts import Facts, ScoreNode
from auditor.flags import Flag, Severity


def _walk(node: ScoreNode) -> Iterator[Flag]:
    mx, sc, de = node.max_score, node.score, node.deduction
    if sc is not None and mx is not None and sc.interval.lo > mx.interval.hi:
        yield make_flag(
            "SCORE_RANGE",
            Severity.ERROR,
            f"“{node.name}”得分{sc.text}分高于其分值{mx.text}分",
            sc,
            mx.text,
            computed_text(sc.interval - mx.interval, sc.decimals),
            [sc.evidence, mx.evidence],
        )
    if sc is not None and sc.value < 0:
        yield make_flag(
            "SCORE_RANGE", Severity.ERROR, f"“{node.name}”得分{sc.text}分为负数", sc, "0", sc.text, [sc.evidence]
        )
    if de is not None and mx is not None and sc is not None:
        comp = mx.interval - sc.interval
        if not consistent(de, comp):
            dec = max(de.decimals, sc.decimals)
            yield make_flag(
                "SCORE_RANGE",
                Severity.ERROR,
                f"“{node.name}”扣分写为{de.text}分，按分值{mx.text}−得分{sc.text}计算为{computed_text(comp, dec)}分",
                de,
                computed_text(comp, dec),
                diff_text(de, comp, dec),
                [de.evidence, sc.evidence],
            )
    for c in node.children:
        yield from _walk(c)


@register("SCORE_RANGE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A score above its weight or below zero; a deduction ≠ weight − score."""
    for root in facts.scores:
        yield from _walk(root)
