"""DUPLICATE: the same item stated twice in one Unit with different values (prose vs table)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import make_flag
from auditor.facts import Facts, ScoreNode
from auditor.flags import Flag, Severity


def _key(name: str) -> str:
    k = re.sub(r"[\s（）()“”\"'、，,：:—-]", "", name)
    k = re.sub(r"(情况分析|情况|分析)$", "", k)
    return re.sub(r"(指标|率)$", "", k)


def _nodes(roots: list[ScoreNode]) -> Iterator[ScoreNode]:
    for r in roots:
        yield r
        yield from _nodes(r.children)


def _index(roots: list[ScoreNode]) -> dict[str, ScoreNode]:
    out: dict[str, ScoreNode] = {}
    dup: set[str] = set()
    for n in _nodes(roots):
        k = _key(n.name)
        if not k:
            continue
        if k in out:
            dup.add(k)
        out[k] = n
    return {k: v for k, v in out.items() if k not in dup}


@register("DUPLICATE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """A score item's weight or score in the prose differs from the same item in the score table."""
    prose = _index([r for r in facts.scores if r.source == "prose"])
    table = _index([r for r in facts.scores if r.source == "table"])
    for k, p in prose.items():
        t = table.get(k)
        if t is None:
            continue
        for what, pq, tq in (
            ("分值", p.max_score, t.max_score),
            ("得分", p.score if not p.not_applicable else p.max_score, t.score),
        ):
            if pq is None or tq is None or pq.interval.intersects(tq.interval):
                continue
            yield make_flag(
                "DUPLICATE",
                Severity.ERROR,
                f"“{p.name}”{what}在正文中写为{pq.text}分，在评分表中为{tq.text}分",
                pq,
                tq.text,
                str(pq.value - tq.value),
                [pq.evidence, tq.evidence],
            )
