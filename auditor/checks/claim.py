"""CLAIM: a row that calls something timely while the same row admits it was late."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import make_flag
from auditor.facts import Facts
from auditor.flags import Flag, Severity


@register("CLAIM", Severity.WARNING)
def check(facts: Facts) -> Iterator[Flag]:
    """The same subject is described as 及时 and admitted late (未达到…日内 / 滞后) in one table row."""
    for s in facts.statements:
        if s.kind != "late":
            continue
        timely = next((t for t in facts.statements if t.kind == "timely" and t.subject == s.subject), None)
        if timely is None:
            continue
        yield make_flag(
            "CLAIM",
            Severity.WARNING,
            f"“{s.subject}”情况说明称“{' '.join(timely.evidence.quote.split())}”，"
            f"同行又承认“{' '.join(s.evidence.quote.split())}”",
            "及时",
            "未及时",
            "",
            [timely.evidence, s.evidence],
            formula="同一行既称及时又承认未及时",
        )
