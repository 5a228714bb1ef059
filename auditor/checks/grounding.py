"""GROUNDING: how many extracted values were dropped because the text does not contain them."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.facts import Facts
from auditor.flags import Flag, Severity


@register("GROUNDING", Severity.INFO)
def check(facts: Facts) -> Iterator[Flag]:
    """Values and relations dropped because they could not be verified (a quote not in the text, a number or a
    label not in its quote, a role its words do not name): one row per Unit."""
    if facts.dropped:
        yield Flag(
            check="GROUNDING",
            severity=Severity.INFO,
            message=(
                f"{facts.dropped}个抽取的数值或关系无法核实（引文不在原文中、引文不含其数字或称呼、"
                "称呼说明不了它在关系中的位置）而被舍弃，未用于任何核对"
            ),
            stated=str(facts.dropped),
            formula="抽取值须逐字出现在原文中",
        )
