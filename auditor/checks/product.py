"""PRODUCT: an amount against the product (or quotient) of the quantities it is computed from."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, make_flag
from auditor.facts import Facts
from auditor.flags import Flag, Severity
from auditor.intervals import Interval


@register("PRODUCT", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A stated amount ≠ its factors multiplied (人数 × 每人标准) or divided (总额 ÷ 人数), in its own unit."""
    for p in facts.products:
        if not p.factors:
            continue
        comp = Interval.exact(1)
        for f in p.factors:
            comp = comp * f.interval
        try:
            for d in p.divisors:
                comp = comp / d.interval
        except ZeroDivisionError:
            continue
        comp = comp.scale(p.scale)
        dec = p.amount.decimals
        formula = "×".join(f.shown() for f in p.factors) + "".join(f"÷{d.shown()}" for d in p.divisors)
        if p.scale != 1:
            formula += f"÷{_plain(1 / p.scale)}" if p.scale < 1 else f"×{_plain(p.scale)}"
        yield make_flag(
            "PRODUCT",
            Severity.ERROR,
            f"{p.label}写为{p.amount.shown()}，按{formula}计算为{computed_text(comp, dec)}{p.amount.unit}",
            p.amount,
            computed_text(comp, dec),
            diff_text(p.amount, comp, dec),
            [p.amount.evidence, *(f.evidence for f in p.factors), *(d.evidence for d in p.divisors)],
            formula=f"{formula} = {p.amount.text}",
            ok=consistent(p.amount, comp),
        )


def _plain(x: Decimal) -> str:
    """10000, not 1E+4."""
    return f"{x.normalize():f}"
