"""CHANGE: a stated increase or decrease against the two values it compares."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, first_time, make_flag, pct
from auditor.facts import Facts
from auditor.flags import Flag, Severity


@register("CHANGE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A stated change (amount or %) ≠ the change computed from the before and after values."""
    seen: set[tuple] = set()
    for c in facts.changes:
        if not first_time(seen, c.change, c.before, c.after, c.amount):
            continue
        if c.before is not None:
            before, before_text = c.before.interval, c.before.shown()
        elif c.amount is not None and c.relative:
            # Last year's value unstated: this year's less the stated increase (plus the decrease).
            before = c.after.interval - c.amount.interval.scale(c.direction)
            sign = "−" if c.direction > 0 else "+"
            before_text = f"({c.after.shown()}{sign}{c.amount.shown()})"
        else:
            continue
        delta = (c.after.interval - before).scale(c.direction)
        if c.relative:
            comp = pct(c.amount.interval if c.before is None and c.amount is not None else delta, before)
            if comp is None:
                continue
            if c.before is None:
                formula = f"{c.amount.shown()}÷{before_text}"  # type: ignore[union-attr]
            elif c.direction < 0:
                formula = f"({before_text}−{c.after.shown()})÷{before_text}"
            else:
                formula = f"({c.after.shown()}−{before_text})÷{before_text}"
            unit = "%"
        else:
            comp = delta
            formula = f"{c.after.shown()}−{before_text}" if c.direction > 0 else f"{before_text}−{c.after.shown()}"
            unit = c.change.unit
        dec = c.change.decimals
        yield make_flag(
            "CHANGE",
            Severity.ERROR,
            f"{c.label}{c.change.label}写为{c.change.shown()}，按{formula}计算为{computed_text(comp, dec)}{unit}",
            c.change,
            computed_text(comp, dec) + ("%" if unit == "%" else ""),
            diff_text(c.change, comp, dec),
            [c.change.evidence, c.after.evidence, *(q.evidence for q in (c.before, c.amount) if q is not None)],
            formula=formula + ("×100%" if unit == "%" else ""),
            ok=consistent(c.change, comp),
        )
