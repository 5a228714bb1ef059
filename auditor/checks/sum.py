"""SUM: a total against the sum of the parts listed under it."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import common, computed_text, decimals_in, diff_text, make_flag
from auditor.facts import Facts
from auditor.flags import Flag, Severity
from auditor.intervals import total


@register("SUM", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A stated total ≠ the sum of its parts (其中 lists, 共计, table 总额 rows and columns)."""
    seen: set[tuple] = set()
    for s in facts.sums:
        if s.total.unit == "分":
            continue  # score totals are SCORE_SUM's
        scaled = common([s.total, *s.parts]) if s.parts else None
        if scaled is None:
            continue
        key = (s.total.value, tuple(p.value for p in s.parts))
        if key in seen:
            continue
        seen.add(key)
        stated, comp = scaled[0], total(scaled[1:])
        # A partial list may leave items out: parts that stay below the total are consistent with it.
        partial = not s.exhaustive and comp.hi < stated.lo
        ok = stated.intersects(comp) or partial
        # Show the computed sum in the total's own unit.
        factor = (s.total.interval.hi - s.total.interval.lo) / (stated.hi - stated.lo) if stated.hi != stated.lo else 1
        comp = comp.scale(factor)
        dec = max([s.total.decimals, *(decimals_in(p, s.total.unit) for p in s.parts)])
        parts = "+".join(p.text for p in s.parts)
        yield make_flag(
            "SUM",
            Severity.ERROR,
            f"{s.label}写为{s.total.shown()}，各分项{parts}合计为{computed_text(comp, dec)}{s.total.unit}"
            + ("（所列分项未必完整）" if partial else ""),
            s.total,
            computed_text(comp, dec),
            diff_text(s.total, comp, dec),
            [s.total.evidence, *(p.evidence for p in s.parts)],
            formula=f"{parts} {'≤' if partial else '='} {s.total.text}",
            ok=ok,
        )

    for c in facts.item_counts:
        named = len(c.items)
        yield make_flag(
            "SUM",
            Severity.ERROR,
            f"{c.label}写为{c.count.shown()}，其后列出{named}{c.count.unit}：{'、'.join(c.items)}",
            c.count,
            str(named),
            str(c.count.value - named),
            [c.count.evidence, c.evidence],
            formula=f"列出的名称数 {named} = {c.count.text}",
            ok=c.count.value == named,
        )
