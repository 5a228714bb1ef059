"""SUM: a total against the sum of the parts listed under it."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, make_flag
from auditor.facts import Facts
from auditor.flags import Flag, Severity
from auditor.intervals import total


@register("SUM", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A stated total ≠ the sum of its parts (其中 lists, 共计, table 总额 rows and columns)."""
    seen: set[tuple] = set()
    for s in facts.sums:
        if not s.parts or any(p.unit != s.total.unit for p in s.parts):
            continue
        key = (s.total.value, tuple(p.value for p in s.parts))
        if key in seen:
            continue
        seen.add(key)
        comp = total([p.interval for p in s.parts])
        if consistent(s.total, comp):
            continue
        if not s.exhaustive and comp.hi < s.total.interval.lo:
            continue  # a partial list may leave items out
        dec = max([s.total.decimals, *(p.decimals for p in s.parts)])
        parts = "+".join(p.text for p in s.parts)
        yield make_flag(
            "SUM",
            Severity.ERROR,
            f"{s.label}写为{s.total.shown()}，各分项{parts}合计为{computed_text(comp, dec)}{s.total.unit}",
            s.total,
            computed_text(comp, dec),
            diff_text(s.total, comp, dec),
            [s.total.evidence, *(p.evidence for p in s.parts)],
        )
