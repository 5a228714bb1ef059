"""DUPLICATE: the same item stated twice in one Unit with different values (prose vs table)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import make_flag, written
from auditor.facts import Facts, FundFlow, Indicator, Quantity, ScoreNode, in_common_unit
from auditor.flags import Flag, Severity


def _key(name: str) -> str:
    k = re.sub(r"[\s（）()“”\"'、，,：:—-]", "", name)
    k = re.sub(r"(情况分析|情况|分析)$", "", k)
    return re.sub(r"(?:指标|率)+$", "", k)


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
    """The same item stated twice with different values: a score in prose vs table, or a fund line restated."""
    yield from _funds(facts)
    yield from _table_vs_prose(facts)
    yield from _restated(facts)
    prose = _index([r for r in facts.scores if r.source == "prose"])
    table = _index([r for r in facts.scores if r.source == "table"])
    rows = {_key(i.name): i for i in facts.indicators if i.score is not None}
    for k, p in prose.items():
        t: ScoreNode | Indicator | None = table.get(k)
        if t is None:
            # An indicator row with its own 分值/得分 columns ("乳腺癌筛查" vs "乳腺癌筛查人数").
            near = [i for rk, i in rows.items() if rk.startswith(k) and len(k) >= 4]
            t = near[0] if len(near) == 1 else None
        if t is None:
            continue
        for what, pq, tq in (
            ("分值", p.max_score, t.max_score),
            ("得分", p.score if not p.not_applicable else p.max_score, t.score),
        ):
            if pq is None or tq is None:
                continue
            yield make_flag(
                "DUPLICATE",
                Severity.ERROR,
                f"“{p.name}”{what}在正文中写为{pq.text}分，在评分表中为{tq.text}分",
                pq,
                tq.text,
                str(pq.value - tq.value),
                [pq.evidence, tq.evidence],
                formula=f"正文{pq.text} = 表格{tq.text}",
                ok=pq.interval.intersects(tq.interval),
            )


_FLOW_FIELDS = (
    "allocated",
    "carryover",
    "available",
    "budget",
    "spent",
    "spent_carryover",
    "spent_current",
    "balance",
    "prior_balance",
    "closing_balance",
    "rate",
)


def _label(q: Quantity) -> str:
    return re.sub(r"[\s\d]+", "", q.label)


def _funds(facts: Facts) -> Iterator[Flag]:
    """The same fund line restated with a different amount (e.g. 实际支出 in 一(二) vs 一(三))."""
    flows = [f for f in facts.fund_flows if f.source == "prose"]
    # Two passages are tied to one fund when some line has the same label, unit and value in both: grouping by
    # that key finds the tied pairs without comparing every pair of a long report.
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, flow in enumerate(flows):
        for f in _FLOW_FIELDS:
            q = getattr(flow, f)
            if q is not None and _label(q):
                groups.setdefault((f, _label(q), q.unit, q.value), []).append(i)
    tied = sorted({(i, j) for members in groups.values() for k, i in enumerate(members) for j in members[k + 1 :]})
    for i, j in tied:
        a, b = flows[i], flows[j]
        for f in _FLOW_FIELDS:
            pair = _pair(a, b, f)
            if pair is None:
                continue
            qa, qb = pair
            same = qa.interval.intersects(qb.interval)
            yield make_flag(
                "DUPLICATE",
                Severity.ERROR,
                f"“{qa.label}”先写为{qa.shown()}，后又写为{qb.shown()}"
                + ("，两处一致" if same else "（两处其余数字一致）"),
                qb,
                qa.text,
                str(qb.value - qa.value),
                [qb.evidence, qa.evidence],
                formula=f"{qa.shown()} = {qb.shown()}",
                ok=same,
            )


# A table's 全年预算数 is not the prose's 可用资金 (which adds the carryover): only like with like.
_TABLE_VS_PROSE = (("spent", "spent", "执行数/支出"), ("rate", "rate", "预算执行率"), ("budget", "budget", "预算数"))


def _table_vs_prose(facts: Facts) -> Iterator[Flag]:
    """A 自评表 total row against the same fund's money stated in the prose."""
    totals = [f for f in facts.fund_flows if f.source == "table" and re.search(r"总额|合计|总计", f.name)]
    prose = [f for f in facts.fund_flows if f.source == "prose"]
    for t in totals[:1]:
        for p in prose:
            for tf, pf, what in _TABLE_VS_PROSE:
                qt, qp = getattr(t, tf), getattr(p, pf)
                if qt is None or qp is None or qt.unit != qp.unit:
                    continue
                yield make_flag(
                    "DUPLICATE",
                    Severity.ERROR,
                    f"{what}在正文中写为{qp.shown()}，在自评表“{t.name}”行中为{qt.shown()}",
                    qp,
                    written(qt),
                    str(qp.value - qt.value),
                    [qp.evidence, qt.evidence],
                    formula=f"正文{qp.shown()} = 表格{qt.shown()}",
                    ok=qt.interval.intersects(qp.interval),
                )


def _restated(facts: Facts) -> Iterator[Flag]:
    """A figure the text restates from a table (or from itself): the two must meet within rounding."""
    for r in facts.restatements:
        scaled = in_common_unit([r.first, r.second])
        if scaled is None:
            continue
        a, b = scaled[0].scale(r.sign), scaled[1]
        # One figure written twice at one precision must be written alike (5 and 6 meet only at 5.5);
        # written at two precisions, the rounding rule decides.
        alike = r.first.unit == r.second.unit and r.first.decimals == r.second.decimals
        same = r.first.value * r.sign == r.second.value if alike else a.intersects(b)
        yield make_flag(
            "DUPLICATE",
            Severity.ERROR,
            f"{r.label}在正文中写为{r.first.shown()}，{'在表格中为' if r.where == 'table' else '另处又写为'}"
            f"{r.second.shown()}" + ("，两处一致" if same else ""),
            r.first,
            written(r.second),
            "" if same else str(r.first.value - r.second.value),
            [r.first.evidence, r.second.evidence],
            formula=f"{'−' if r.sign < 0 else ''}{r.first.shown()} = {r.second.shown()}",
            ok=same,
        )


def _pair(a: FundFlow, b: FundFlow, field: str) -> tuple[Quantity, Quantity] | None:
    qa, qb = getattr(a, field), getattr(b, field)
    if qa is None or qb is None or not _label(qa) or _label(qa) != _label(qb) or qa.unit != qb.unit:
        return None
    return qa, qb
