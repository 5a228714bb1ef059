"""CHANGE: a stated increase or decrease against the two values it compares."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, make_flag, pct
from auditor.facts import Facts
from auditor.flags import Flag, Severity


@register("CHANGE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A stated change (amount or %) ≠ the change computed from the before and after values."""
    for c in facts.changes:
        delta = (c.after.interval - c.before.interval).scale(c.direction)
        if c.relative:
            comp = pct(delta, c.before.interval)
            if comp is None:
                continue
            formula = (
                f"({c.before.shown()}−{c.after.shown()})÷{c.before.shown()}"
                if c.direction < 0
                else f"({c.after.shown()}−{c.before.shown()})÷{c.before.shown()}"
            )
            unit = "%"
        else:
            comp = delta
            formula = f"{c.after.shown()}−{c.before.shown()}"
            unit = c.change.unit
        dec = c.change.decimals
        yield make_flag(
            "CHANGE",
            Severity.ERROR,
            f"{c.label}{c.change.label}写为{c.change.shown()}，按{formula}计算为{computed_text(comp, dec)}{unit}",
            c.change,
            computed_text(comp, dec) + ("%" if unit == "%" else ""),
            diff_text(c.change, comp, dec),
            [c.change.evidence],
            formula=formula + ("×100%" if unit == "%" else ""),
            ok=consistent(c.change, comp),
        )
