"""RATIO: a percentage against the numerator ÷ denominator the report states beside it."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, first_time, iv, make_flag, pct
from auditor.facts import Facts
from auditor.flags import Flag, Severity
from auditor.intervals import Interval, total


@register("RATIO", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A stated percentage ≠ sum(numerator) ÷ sum(denominator) × 100."""
    seen: set[tuple] = set()
    for r in facts.ratios:
        if not r.numerator or not r.denominator or not first_time(seen, r.rate, *r.numerator, *r.denominator):
            continue
        unit = r.denominator[0].unit
        comp = pct(total([iv(q, unit) for q in r.numerator]), total([iv(q, unit) for q in r.denominator]))
        if comp is None:
            continue
        if r.complement:
            comp = Interval.exact(100) - comp
        elif r.excess:
            comp = comp - Interval.exact(100)
        num = "+".join(q.shown() for q in r.numerator)
        den = "+".join(q.shown() for q in r.denominator)
        dec = r.rate.decimals
        formula = f"{'1−' if r.complement else ''}{num}÷{den}{'−1' if r.excess else ''}"
        yield make_flag(
            "RATIO",
            Severity.ERROR,
            f"{r.label}写为{r.rate.text}%，按{formula}计算为{computed_text(comp, dec)}%",
            r.rate,
            computed_text(comp, dec) + "%",
            diff_text(r.rate, comp, dec),
            [r.rate.evidence, *(q.evidence for q in r.numerator), *(q.evidence for q in r.denominator)],
            formula=f"({formula})×100%" if r.excess else f"{formula}×100%",
            ok=consistent(r.rate, comp),
        )
