"""Sums: a total and its parts, from 其中 lists and 共计 sentences in prose and from 总额 header rows in tables."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.flows import table_money_unit
from auditor.extract.rules.scan import MONEY, Num, cell_quantity, compatible, numbers, quantity
from auditor.facts import Facts, SumClaim
from auditor.numbers import fold

# A part whose label says it is itself a total, a rate or a comparison ends the list of parts.
_STOP_PART = re.compile(r"共计|合计|总计|净|累计|结余|率|比例|占比|人均|超过|不少于|不低于|目标|达到|较|可用|可支配")


def _depth(text: str, a: int, b: int) -> int:
    """How many parentheses opened between a and b are still open at b."""
    seg = text[a:b]
    return max(0, seg.count("（") + seg.count("(") - seg.count("）") - seg.count(")"))


def _list_before_semicolon(text: str, total: Num, parts: list[Num]) -> list[Num]:
    """Cut a 其中 list at a ；when the parts before it already make the total and the rest do not fit.

    A ；may start a new subject after a complete list, or separate the parts of one list; the arithmetic
    tells which.
    """
    if not parts or len({p.unit for p in parts} | {total.unit}) != 1:
        return parts
    t = quantity(total).interval
    acc = quantity(parts[0]).interval.scale(0)
    for idx, p in enumerate(parts):
        acc = acc + quantity(p).interval
        nxt = parts[idx + 1] if idx + 1 < len(parts) else None
        if nxt is not None and re.search(r"[；;]", text[p.k : nxt.i]) and acc.intersects(t):
            return parts[: idx + 1]
    return parts


@register("sums.prose")
def prose_sums(ctx: Context) -> Facts:
    """A total followed by 其中 and its parts; parts followed by 共计/合计 and their total."""
    out: list[SumClaim] = []
    for p in ctx.paras:
        text = fold(p.text)
        nums = numbers(p)
        for m in re.finditer(r"其中", text):
            k = m.start()
            before = [n for n in nums if n.k <= k and n.unit and n.unit != "%"]
            if not before:
                continue
            total = before[-1]
            if text[total.k : k].count("。") or len(text[total.k : k]) > 12:
                continue
            paren = text[k - 1 : k] in {"（", "("}
            end = len(text)
            if paren:
                close = re.search(r"[）)]", text[k:])
                end = k + close.start() if close else end
            else:
                stop = re.search(r"。|(?<=[；;]).{0,20}?其中", text[k + 2 :])
                end = k + 2 + stop.start() if stop else end
            parts = []
            nested: dict[int, list[Num]] = {}  # a part's own breakdown in parentheses after it
            for n in nums:
                if not (k < n.i < end):
                    continue
                depth = _depth(text, k + 2, n.i)
                if depth > 0:
                    if (
                        parts
                        and compatible(n.unit, parts[-1].unit)
                        and not re.search(r"含|包括", text[parts[-1].k : n.i])
                    ):
                        nested.setdefault(len(parts) - 1, []).append(n)
                    continue  # inside a parenthesis: a breakdown of the part before it, not a part
                if not compatible(n.unit, total.unit):
                    if parts and n.unit:
                        break  # the list has moved on to another measure (counts after amounts)
                    continue
                if _STOP_PART.search(n.label):
                    break
                parts.append(n)
            parts = _list_before_semicolon(text, total, parts)
            # A list cut off by the end of the text may leave items out, and so may three or more categories of
            # a count (其中 often picks the main kinds of institutions or people); money allocated is all listed,
            # and a count split in two is split whole.
            cut = end == len(text) and not re.search(r"[。；;）)]\s*$", text) and p is ctx.paras[-1]
            exhaustive = not cut and (total.unit in MONEY or len(parts) <= 2)
            if len(parts) >= 2:
                out.append(
                    SumClaim(
                        label=total.label,
                        total=quantity(total),
                        parts=[quantity(x) for x in parts],
                        exhaustive=exhaustive,
                    )
                )
            for idx, subs in nested.items():
                if idx < len(parts) and len(subs) >= 2:
                    out.append(
                        SumClaim(
                            label=parts[idx].label,
                            total=quantity(parts[idx]),
                            parts=[quantity(x) for x in subs],
                            exhaustive=True,
                        )
                    )
        for m in re.finditer(r"共计|合计|总计|共", text):
            k = m.start()
            after = [n for n in nums if n.i >= m.end() and n.i - m.end() <= 3 and n.unit and n.unit != "%"]
            if not after:
                continue
            total = after[0]
            sent_start = max(text.rfind("。", 0, k) + 1, 0)
            parts = [n for n in nums if sent_start <= n.i and n.k <= k and n.unit == total.unit]
            if parts and len(text[parts[-1].k : k].strip("，,、；; ")) > 0:
                continue
            if len(parts) >= 2 and not any(_STOP_PART.search(x.label) for x in parts):
                out.append(
                    SumClaim(
                        label=text[m.start() : total.i] or "共计",
                        total=quantity(total),
                        parts=[quantity(x) for x in parts],
                        exhaustive=True,
                    )
                )
    return Facts(sums=out)


@register("sums.header_row")
def header_row_sums(ctx: Context) -> Facts:
    """A header row naming a total and its parts (资金总额 | 财政拨款 | 其他资金) over a row of numbers."""
    out: list[SumClaim] = []
    for t in ctx.tables:
        unit = table_money_unit(t)
        for a, b in zip(t.rows, t.rows[1:], strict=False):
            ha = [re.sub(r"\s+", "", fold(x)) for x in a.texts]
            tot = next((i for i, x in enumerate(ha) if re.fullmatch(r".{0,4}(总额|合计|总计)", x)), None)
            if tot is None:
                continue
            part_cols = [i for i in range(tot + 1, len(ha)) if ha[i]]
            if not part_cols or tot >= len(b.cells):
                continue
            total = cell_quantity(b.cells[tot], ha[tot], a.cells[tot])
            if total is None:
                continue
            parts = []
            blank = []
            for i in part_cols:
                q = cell_quantity(b.cells[i], ha[i], a.cells[i]) if i < len(b.cells) else None
                if q is not None:
                    parts.append(q.model_copy(update={"unit": q.unit or total.unit}))
                else:
                    blank.append(ha[i])
            if parts:
                label = ha[tot] + ("（" + "、".join(blank) + "未填）" if blank else "")
                out.append(
                    SumClaim(
                        label=label,
                        total=total.model_copy(update={"unit": total.unit or unit}),
                        parts=[p.model_copy(update={"unit": p.unit or unit}) for p in parts],
                        exhaustive=True,
                    )
                )
    return Facts(sums=out)
