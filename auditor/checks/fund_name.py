"""FUND_NAME: money attributed to a different fund than the one the report evaluates."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import make_flag
from auditor.facts import Facts, ScoreNode, fund_kind
from auditor.flags import Flag, Severity


@register("FUND_NAME", Severity.WARNING)
def check(facts: Facts) -> Iterator[Flag]:
    """An amount or a score item is said to be of another fund family than the one the report evaluates."""
    own = fund_kind(facts.fund)
    if not own:
        return
    for m in facts.fund_mentions:
        other = fund_kind(m.fund)
        if other and other != own:
            yield make_flag(
                "FUND_NAME",
                Severity.WARNING,
                f"正文称“{' '.join(m.amount.evidence.quote.split())}”，资金名称属{other}，但本报告评价的是{facts.fund}",
                m.amount,
                facts.fund,
                "",
                [m.amount.evidence],
                formula=f"资金属{other} ≠ {own}",
            )

    seen: set[str] = set()
    for node in _nodes(facts.scores):
        other = fund_kind(node.name)
        q = node.max_score or node.score
        if not other or other == own or q is None or node.name in seen:
            continue
        seen.add(node.name)
        yield make_flag(
            "FUND_NAME",
            Severity.WARNING,
            f"评分项“{node.name}”写的是{other}，但本报告评价的是{facts.fund}（疑为套用其他资金的模板）",
            node.name,
            facts.fund,
            "",
            [q.evidence],
            formula=f"评分项属{other} ≠ {own}",
        )


def _nodes(roots: list[ScoreNode]) -> Iterator[ScoreNode]:
    for r in roots:
        yield r
        yield from _nodes(r.children)
