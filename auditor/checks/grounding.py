"""GROUNDING: how many extracted values were dropped because the text does not contain them."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.facts import Facts
from auditor.flags import Flag, Severity


@register("GROUNDING", Severity.INFO)
def check(facts: Facts) -> Iterator[Flag]:
    """Values dropped by grounding (quote not in the text, or number not in its quote): one row per Unit."""
    if facts.dropped:
        yield Flag(
            check="GROUNDING",
            severity=Severity.INFO,
            message=f"{facts.dropped}个抽取值因原文中找不到其引文或数字而被舍弃，未用于任何核对",
            stated=str(facts.dropped),
            formula="抽取值须逐字出现在原文中",
        )
