"""Table arithmetic: footing, cross-footing, changes, rates and shares, and balances of any table.

Every reader works on the sheet of a table (auditor.extract.rules.sheet): roles come from the labels
and headers, and a declared relation is kept only when the numbers bear it out somewhere in the table
(a 合计 row of averages adds up in no column, so it is no footing). An undeclared relation is read only
when it holds in at least three rows or columns, never from one coincidence. Grids that could not be
aligned are left alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations, pairwise

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import per_unit
from auditor.extract.rules.sheet import RowInfo, Sheet, additive_unit, analyse
from auditor.facts import (
    ChangeClaim,
    Facts,
    FundFlow,
    ProductClaim,
    Quantity,
    RatioClaim,
    SumClaim,
    in_common_unit,
    scale_of,
)
from auditor.intervals import Interval, total
from auditor.layout import Para, Table


def sheets(ctx: Context) -> list[Sheet]:
    """The sheets of the Unit's tables that can be trusted, read once for every table reader."""

    def make() -> list[Sheet]:
        out = []
        for t in ctx.tables:
            if t.grid is not None and t.grid.uncertain:
                continue
            sheet = analyse(t, _caption(ctx.paras, t))
            sheet.truncated = _truncated(ctx, t)
            out.append(sheet)
        return out

    return ctx.once("tables.sheets", make)


def _caption(paras: list[Para], table: Table) -> list[Para]:
    """The paragraphs just above a table (its title and unit line)."""
    # Paragraphs come in document order: the two last ending before the table, not a pass over all of them.
    ends = per_unit(paras, _ends)
    k = bisect_right(ends, table.start)
    return [p for p in paras[max(0, k - 2) : k] if table.start - p.end < 120]


def _ends(paras: list[Para]) -> list[int]:
    return [p.end for p in paras]


def _truncated(ctx: Context, table: Table) -> bool:
    """The table runs to the end of the Unit and its last row is cut short (an excerpt that stops mid-table)."""
    if table.grid is None or not table.rows:
        return False
    rest = ctx.unit.doc.text[table.end : ctx.unit.end]
    last = table.rows[-1].cells
    filled = sum(1 for c in last if c.text.strip())
    return not rest.strip() and filled < max(2, len([c for c in table.rows[0].cells if c.text.strip()]))


def holds(stated: Quantity, parts: list[Quantity]) -> bool | None:
    """Whether a total meets the sum of its parts under the rounding rule; None when the units do not compare."""
    scaled = in_common_unit([stated, *parts])
    if scaled is None:
        return None
    return scaled[0].intersects(total(scaled[1:]))


# ----------------------------------------------------------------------------- column footing


@dataclass
class Footing:
    """A row that totals other rows, and whether the parts are the whole or may be a selection."""

    total: RowInfo
    parts: list[RowInfo]
    exhaustive: bool
    declared: bool


def _level(r: RowInfo) -> int | None:
    if r.kind == "total":
        return 0
    if r.kind == "subtotal":
        return 1
    if r.kind == "data":
        return 3 if r.child else 2
    return None


def footings(sheet: Sheet) -> list[Footing]:
    """Total and subtotal rows with the rows they total; 其中 rows with their parent; 按…分 breakdowns."""
    data = [r for r in sheet.data_rows]
    out: list[Footing] = []
    # 其中 lists first: the rows they take are parts of their parent, not of the totals above it.
    taken: set[int] = set()
    for idx, p in enumerate(data):
        if p.kind in ("data", "total", "subtotal") and not p.child and idx + 1 < len(data) and data[idx + 1].child:
            kids, complete = _qizhong(sheet, p, data[idx + 1 :])
            out.append(Footing(p, kids, complete, True))
            taken.update(k.index for k in kids)

    def level(r: RowInfo) -> int | None:
        return 3 if r.index in taken else _level(r)

    top: dict[int, bool] = {}
    for idx, t in enumerate(data):
        lvl = level(t)
        if lvl not in (0, 1):
            continue
        if lvl not in top:
            # The first total of a level says whether totals head their rows or close them.
            prev = next((level(r) for r in reversed(data[:idx]) if level(r) is not None), None)
            nxt = next((level(r) for r in data[idx + 1 :] if level(r) is not None), None)
            top[lvl] = (prev is None or prev <= lvl) and nxt is not None and nxt > lvl
        scope = data[idx + 1 :] if top[lvl] else list(reversed(data[:idx]))
        group: list[RowInfo] = []
        for r in scope:
            lr = level(r)
            if r.kind == "section":
                if group:
                    break  # another breakdown of the same rows starts
                continue
            if lr is not None and lr <= lvl:
                break
            group.append(r)
        if not top[lvl]:
            group.reverse()
        levels = [level(r) for r in group if level(r) is not None and level(r) != 3]
        if not levels:
            continue
        want = min(levels)
        parts = [r for r in group if level(r) == want]
        reaches_end = bool(group) and group[-1] is data[-1] if top[lvl] else False
        out.append(Footing(t, parts, not (sheet.truncated and reaches_end), True))
    # A row whose breakdown a 按…分 line announces (several such lines after one row break that same row
    # down in different ways).
    broken_down: RowInfo | None = None
    for idx, p in enumerate(data):
        if p.kind not in ("data", "total", "subtotal") or p.child:
            continue
        if idx + 1 < len(data) and data[idx + 1].kind == "section" and re.match(r"按", data[idx + 1].label):
            if broken_down is not None and _in_breakdown(data, broken_down, p):
                p = broken_down
            broken_down = p
            items = []
            for r in data[idx + 2 :]:
                if r.kind != "data" or r.child or re.match(r"[一二三四五六七八九十]+、", r.label):
                    break
                items.append(r)
            if len(items) >= 2:
                out.append(Footing(p, items, True, True))
    return out


def _in_breakdown(data: list[RowInfo], parent: RowInfo, row: RowInfo) -> bool:
    """The row closes an earlier 按…分 breakdown of `parent` (it is one of its items)."""
    start = data.index(parent)
    end = data.index(row)
    return any(r.kind == "section" and r.label.startswith("按") for r in data[start + 1 : end])


def _qizhong(sheet: Sheet, parent: RowInfo, after: list[RowInfo]) -> tuple[list[RowInfo], bool]:
    """The rows of a 其中 list: the marked row and the rows after it, up to the one that completes the parent.

    A 其中 mark opens the list; the rows after it belong to it until their running sum reaches the parent
    (then the next row is the parent's sibling again). A list that never reaches it may be a selection.
    """
    cols = [c.index for c in sheet.columns if c.additive and sheet.value(parent.index, c.index) is not None]
    kids: list[RowInfo] = []
    for r in after:
        if r.kind != "data" or (kids and _ROW_NAME_MARK.match(r.label)):
            break
        kids.append(r)
        reached = 0
        for c in cols:
            parts = [q for k in kids if (q := sheet.value(k.index, c)) is not None]
            total_q = sheet.value(parent.index, c)
            if parts and total_q is not None and holds(total_q, parts):
                reached += 1
        if cols and reached > len(cols) / 2:
            return kids, True
    marked = [k for k in kids if k.child]
    return (kids if len(kids) > len(marked) else marked), False


_ROW_NAME_MARK = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）])")


@register("tables.footing")
def column_footing(ctx: Context) -> Facts:
    """Total and subtotal rows against the rows they total, in every column that adds."""
    out: list[SumClaim] = []
    for sheet in sheets(ctx):
        if sheet.averages:
            continue  # averages per hospital or per person do not add up down the rows
        for f in footings(sheet):
            if len(f.parts) < 2 and f.exhaustive:
                continue
            claims = []
            for col in sheet.columns:
                if not col.additive and not _shares_of_whole(sheet, f.total.index, col.index):
                    continue
                claim = _sum_claim(sheet, f.total.index, [p.index for p in f.parts], col.index, f.exhaustive, by="row")
                if claim is not None:
                    claims.append(claim)
            out.extend(_borne_out(claims))
    return Facts(sums=out)


def _shares_of_whole(sheet: Sheet, total_row: int, col: int) -> bool:
    """A share column whose total row says 100%: the shares of the parts add up to it."""
    q = sheet.value(total_row, col)
    return bool(_SHARE_COL.search(sheet.columns[col].label)) and q is not None and q.value == 100


def _sum_claim(sheet: Sheet, t_row: int, part_rows: list[int], col: int, exhaustive: bool, by: str) -> SumClaim | None:
    """The SumClaim of one column (by="row": rows add up) or one row (by="col": columns add up)."""
    if by == "row":
        total_q = sheet.value(t_row, col)
        cells = [(r, col) for r in part_rows]
    else:
        total_q = sheet.value(col, t_row)  # here col is the row index and t_row the total column
        cells = [(col, c) for c in part_rows]
    share = total_q is not None and total_q.unit == "%" and total_q.value == 100
    if total_q is None or not (additive_unit(total_q) or share):
        return None
    parts: list[Quantity] = []
    for rc in cells:
        q = sheet.value(*rc)
        if q is None:
            if not sheet.blank(*rc):
                return None  # a part that is text, not a number: the sum cannot be computed
            continue  # an empty cell is nothing
        if not (additive_unit(q) or (share and q.unit == "%")):
            return None
        parts.append(q)
    if not parts or holds(total_q, parts) is None:
        return None
    if (
        by == "row"
        and len(parts) >= 2
        and all(p.value >= 0 for p in parts)
        and 0 < total_q.value <= max(p.value for p in parts)
    ):
        return None  # a total no bigger than one of its positive parts: a column of rates or averages, not a sum
    info = sheet.rows[t_row if by == "row" else col]
    col_label = sheet.columns[col if by == "row" else t_row].label
    label = f"表格“{info.label}”{('“' + col_label + '”') if col_label else ''}"
    return SumClaim(label=label, total=total_q, parts=parts, exhaustive=exhaustive)


def _borne_out(claims: list[SumClaim]) -> list[SumClaim]:
    """A declared footing the numbers bear out somewhere; one that adds up nowhere is not a footing."""
    if len(claims) >= 2 and not any(holds(c.total, c.parts) for c in claims):
        if not any(not c.exhaustive for c in claims):
            return []
    return claims


# ----------------------------------------------------------------------------- cross-footing

_TOTAL_COL = re.compile(r"合计|总计|小计|总额|共计|总数|总收入|总支出|金额")
# Trying every column as the total of every run of columns costs the cube of the width: a sheet wider than
# this is no report's table (the widest in the fixtures has 12 number columns) and is not cross-footed.
_WIDEST = 30


@register("tables.crossfoot")
def cross_footing(ctx: Context) -> Facts:
    """A total column against the columns of its parts, row by row (总收入 = 医疗收入 + … ; 小计 = C级 + D级)."""
    out: list[SumClaim] = []
    for sheet in sheets(ctx):
        cols = [c for c in sheet.columns if c.additive]
        if len(cols) > _WIDEST:
            continue
        idx = [c.index for c in cols]
        rows = [r.index for r in sheet.data_rows if r.kind != "section"]
        chosen: list[tuple[int, list[int], list[SumClaim]]] = []
        used: set[int] = set()
        candidates = []
        for k, t in enumerate(idx):
            for start, end in ((k + 1, None), (None, k)):
                for n in range(len(idx), 1, -1):
                    span = idx[start : start + n] if start is not None else idx[max(0, end - n) : end]  # type: ignore[operator]
                    if len(span) != n:
                        continue
                    claims = [c for r in rows if (c := _sum_claim(sheet, t, span, r, True, by="col")) is not None]
                    ok = sum(1 for c in claims if holds(c.total, c.parts))
                    declared = bool(_TOTAL_COL.search(sheet.columns[t].label)) or any(
                        "其中" in sheet.columns[c].label or sheet.columns[c].label.startswith("#") for c in span
                    )
                    enough = (declared and ok >= 1 and ok >= 0.5 * len(claims)) or (ok >= 3 and ok >= 0.8 * len(claims))
                    if claims and enough:
                        candidates.append((declared, ok, len(span), t, span, claims))
        for _declared, _ok, _n, t, span, claims in sorted(candidates, key=lambda x: (-x[0], -x[1], -x[2])):
            if t in used or used & set(span):
                continue
            chosen.append((t, span, claims))
            used.add(t)
            used.update(span)
        for _t, _span, claims in chosen:
            out.extend(claims)
    return Facts(sums=out)


# ----------------------------------------------------------------------------- rows that add up, undeclared


@register("tables.rowsums")
def row_sums(ctx: Context) -> Facts:
    """A row that is the sum of two or three rows below it in at least three columns (statistics tables).

    Used only where no row is declared a total: the relation must hold in three columns or more, and in
    four columns out of five where it can be computed, before a column where it fails is flagged.
    """
    out: list[SumClaim] = []
    for sheet in sheets(ctx):
        cols = [c.index for c in sheet.columns if c.additive]
        data = [r for r in sheet.data_rows if r.kind == "data" and not r.child]
        if not 3 <= len(cols) <= _WIDEST or any(r.kind in ("total", "subtotal") for r in sheet.data_rows):
            continue
        taken: set[int] = set()
        for i, r in enumerate(data):
            best: list[SumClaim] | None = None
            for size in (2, 3):
                for combo in combinations(data[i + 1 : i + 7], size):
                    claims = [
                        c
                        for col in cols
                        if (c := _sum_claim(sheet, r.index, [p.index for p in combo], col, True, by="row")) is not None
                        and len(c.parts) == size
                    ]
                    ok = [c for c in claims if holds(c.total, c.parts) and c.total.value != 0]
                    if (
                        len(ok) >= 3
                        and len(ok) >= 0.8 * len(claims)
                        and all(p.value != c.total.value for c in ok for p in c.parts)
                    ):
                        best = claims
                        break
                if best:
                    break
            if best and r.index not in taken:
                taken.add(r.index)
                out.extend(best)
    return Facts(sums=out)


# ----------------------------------------------------------------------------- changes

_CHANGE_COL = re.compile(r"增减|增长|增加|减少|变动|变化|比上年|同比|差额|较上年")
_RELATIVE = re.compile(r"率|幅|%|％|百分比")
_YEAR = re.compile(r"((?:19|20)\d\d)")
_BEFORE = re.compile(r"上年|去年|上期|年初|期初|前一年")
_AFTER = re.compile(r"本年|今年|本期|年末|期末|当年")


def _pair(sheet: Sheet, change_col: int) -> tuple[int, int] | None:
    """(before, after) columns a change column compares: the years or 上年/本年 their headers name."""
    cols = [c for c in sheet.columns if c.numeric and c.index != change_col and not _CHANGE_COL.search(c.label)]
    dated = [(int(m.group(1)), c.index) for c in cols if (m := _YEAR.search(c.label))]
    if len(dated) >= 2:
        dated.sort()
        return dated[-2][1], dated[-1][1]
    before = [c.index for c in cols if _BEFORE.search(c.label)]
    after = [c.index for c in cols if _AFTER.search(c.label)]
    if len(before) == 1 and len(after) == 1:
        return before[0], after[0]
    return None


@register("tables.change")
def table_changes(ctx: Context) -> Facts:
    """增减 and 增减率 columns against the two years (or 上年 and 本年) columns they compare."""
    out: list[ChangeClaim] = []
    for sheet in sheets(ctx):
        for col in sheet.columns:
            if not col.numeric or not _CHANGE_COL.search(col.label):
                continue
            pair = _pair(sheet, col.index)
            if pair is None:
                continue
            relative = bool(_RELATIVE.search(col.label)) or col.unit == "%"
            claims = []
            for r in sheet.data_rows:
                b, a, c = sheet.value(r.index, pair[0]), sheet.value(r.index, pair[1]), sheet.value(r.index, col.index)
                if b is None or a is None or c is None or (relative and b.value == 0):
                    continue
                if in_common_unit([a, b]) is None or (not relative and in_common_unit([a, c]) is None):
                    continue
                label = f"表格“{r.label}”"
                claims.append(
                    ChangeClaim(
                        label=label,
                        before=b,
                        after=a,
                        change=c.model_copy(update={"label": col.label, "unit": "%" if relative else c.unit}),
                        direction=1,
                        relative=relative,
                    )
                )
            if len(claims) >= 2 and not any(_change_holds(x) for x in claims):
                continue  # compares something else than these two columns
            out.extend(claims)
        out.extend(_change_rows(sheet))
    return Facts(changes=out)


def _change_rows(sheet: Sheet) -> list[ChangeClaim]:
    """A 增减 (or 增减率) row under two rows of years (or 上年 and 本年): the change of every column."""
    rows = [r for r in sheet.data_rows if r.kind != "section"]
    dated = [(int(m.group(1)), r) for r in rows if (m := _YEAR.search(r.label)) and not _CHANGE_COL.search(r.label)]
    before = [r for r in rows if _BEFORE.search(r.label) and not _CHANGE_COL.search(r.label)]
    after = [r for r in rows if _AFTER.search(r.label) and not _CHANGE_COL.search(r.label)]
    if len(dated) >= 2:
        dated.sort(key=lambda x: x[0])
        pair = (dated[-2][1], dated[-1][1])
    elif len(before) == 1 and len(after) == 1:
        pair = (before[0], after[0])
    else:
        return []
    out: list[ChangeClaim] = []
    for r in rows:
        if not _CHANGE_COL.search(r.label):
            continue
        relative = bool(_RELATIVE.search(r.label))
        claims = []
        for col in sheet.columns:
            b, a, c = (sheet.value(x.index, col.index) for x in (pair[0], pair[1], r))
            if b is None or a is None or c is None or (relative and b.value == 0):
                continue
            claims.append(
                ChangeClaim(
                    label=f"表格“{col.label}”",
                    before=b,
                    after=a,
                    change=c.model_copy(update={"unit": "%" if relative else c.unit}),
                    direction=1,
                    relative=relative,
                )
            )
        if len(claims) >= 2 and not any(_change_holds(x) for x in claims):
            continue
        out.extend(claims)
    return out


def _change_holds(c: ChangeClaim) -> bool:
    delta = c.after.interval - c.before.interval
    if c.relative:
        try:
            comp = (delta / c.before.interval).scale(100)
        except ZeroDivisionError:
            return True
    else:
        comp = delta
    return c.change.interval.intersects(comp)


# ----------------------------------------------------------------------------- rates and shares

_RATE_COL = re.compile(r"执行率|完成率|到位率|拨付率|使用率|支付率|兑付率|发放率")
_SHARE_COL = re.compile(r"占比|比重|构成|所占比例|占.*比例")
_NUMERATOR = re.compile(r"执行数|决算数|决算|支出|实际|完成数|完成值|到位|拨付|使用|支付|兑付|发放")
_DENOMINATOR = [
    re.compile(r"调整(?:后)?预算|全年预算|预算数|预算金额|预算"),
    re.compile(r"年初预算"),
    re.compile(r"计划|目标|应到位|下达|任务"),
]
_LETTER = re.compile(r"[(（]([A-Z])[)）]")
_FORMULA = re.compile(r"([A-Z])\s*[/÷]\s*([A-Z])")


def _rate_operands(sheet: Sheet, rate_col: int) -> tuple[int, list[int]] | None:
    """(numerator column, denominator columns in order of preference) a rate column's header points to."""
    label = sheet.columns[rate_col].label
    letters = {m.group(1): c.index for c in sheet.columns if (m := _LETTER.search(c.label)) and c.index != rate_col}
    f = _FORMULA.search(label)
    if f and f.group(1) in letters and f.group(2) in letters:
        return letters[f.group(1)], [letters[f.group(2)]]
    cols = [c for c in sheet.columns if c.numeric and c.index != rate_col and not _RATE_COL.search(c.label)]
    nums = [c.index for c in cols if _NUMERATOR.search(c.label) and not re.search(r"预算|计划|目标", c.label)]
    dens = [c.index for pat in _DENOMINATOR for c in cols if pat.search(c.label) and c.index not in nums]
    dens = list(dict.fromkeys(dens))
    if not nums or not dens:
        return None
    left = [n for n in nums if n < rate_col]
    return (left[-1] if left else nums[0]), dens


@register("tables.rates")
def table_rates(ctx: Context) -> Facts:
    """执行率/完成率 columns against the spending and budget columns they name; 占比 columns against the total."""
    flows: list[FundFlow] = []
    ratios: list[RatioClaim] = []
    for sheet in sheets(ctx):
        for col in sheet.columns:
            if not col.numeric:
                continue
            if _RATE_COL.search(col.label):
                ops = _rate_operands(sheet, col.index)
                if ops is None:
                    continue
                num, dens = ops
                den = _best_base(sheet, col.index, num, dens)
                for r in sheet.data_rows:
                    rate, spent, base = (sheet.value(r.index, c) for c in (col.index, num, den))
                    if rate is None or spent is None or base is None or base.value == 0:
                        continue
                    rate = rate.model_copy(update={"unit": "%"})
                    name = f"表格“{r.label}”"
                    if "执行率" in col.label:
                        flows.append(FundFlow(name=name, budget=base, spent=spent, rate=rate, source="sheet"))
                    else:
                        ratios.append(
                            RatioClaim(label=name + col.label, rate=rate, numerator=[spent], denominator=[base])
                        )
            elif _SHARE_COL.search(col.label):
                ratios.extend(_shares(sheet, col.index))
    return Facts(fund_flows=flows, ratios=ratios)


def _best_base(sheet: Sheet, rate_col: int, num: int, dens: list[int]) -> int:
    """The denominator column under which most rows' rates hold (the header's preferred one on a tie)."""
    best, best_ok = dens[0], -1
    for d in dens:
        ok = 0
        for r in sheet.data_rows:
            rate, spent, base = (sheet.value(r.index, c) for c in (rate_col, num, d))
            if rate is None or spent is None or base is None or base.value == 0:
                continue
            try:
                comp = (spent.interval / base.interval).scale(100)
            except ZeroDivisionError:
                continue
            ok += Interval.written(rate.value, rate.decimals).intersects(comp)
        if ok > best_ok:
            best, best_ok = d, ok
    return best


def _shares(sheet: Sheet, share_col: int) -> Iterator[RatioClaim]:
    """Each row's share against its amount ÷ the total row's amount, in the amount column left of the shares."""
    amounts = [c for c in sheet.columns if c.additive and c.index < share_col]
    totals = [r for r in sheet.data_rows if r.kind == "total"]
    if not amounts or len(totals) != 1:
        return
    amount = amounts[-1].index
    whole = sheet.value(totals[0].index, amount)
    if whole is None or whole.value == 0:
        return
    label = sheet.columns[share_col].label
    for r in sheet.data_rows:
        share, part = sheet.value(r.index, share_col), sheet.value(r.index, amount)
        if share is None or part is None:
            continue
        yield RatioClaim(
            label=f"表格“{r.label}”{label}",
            rate=share.model_copy(update={"unit": "%"}),
            numerator=[part],
            denominator=[whole],
        )


# ----------------------------------------------------------------------------- formula columns

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_MARK = rf"[{_CIRCLED}]|(?<![A-Za-z])[(（]?[A-Z][)）]?(?![A-Za-z])"
_COLUMN_FORMULA = re.compile(rf"(?P<target>{_MARK})\s*=\s*(?P<expr>(?:{_MARK})(?:\s*[-+*/×÷＊－＋]\s*(?:{_MARK}))+)")
_SCALES_TRIED = (Decimal(1), Decimal("0.0001"), Decimal(10000), Decimal("0.01"), Decimal(100), Decimal("0.1"))


def _marker(text: str) -> str:
    return text.strip("()（） ")


@register("tables.formulas")
def table_formulas(ctx: Context) -> Facts:
    """A header that numbers its columns (① ② … or A B …) and writes how one is computed (⑧=④*⑦, C=A+B):
    that column checked on every row by its formula."""
    products: list[ProductClaim] = []
    sums: list[SumClaim] = []
    for sheet in sheets(ctx):
        marks: dict[str, int] = {}
        formulas: list[tuple[int, re.Match[str]]] = []
        for c in sheet.columns:
            f = _COLUMN_FORMULA.search(c.label)
            head = c.label[: f.start()] + f.group("target") if f else c.label
            own = re.findall(_MARK, head)
            if own:
                marks.setdefault(_marker(own[-1]), c.index)
            if f:
                formulas.append((c.index, f))
        for col, f in formulas:
            ops = re.findall(r"[-+*/×÷＊－＋]", f.group("expr"))
            terms = [marks.get(_marker(m)) for m in re.findall(_MARK, f.group("expr"))]
            if any(t is None or not sheet.columns[t].numeric for t in terms) or not sheet.columns[col].numeric:
                continue
            if set(ops) <= {"+", "＋"}:
                sums.extend(_formula_sums(sheet, col, terms))  # type: ignore[arg-type]
            elif set(ops) <= {"*", "×", "＊", "/", "÷"} and not _RATE_COL.search(sheet.columns[col].label):
                mult = [terms[0]] + [t for t, op in zip(terms[1:], ops, strict=True) if op in "*×＊"]
                div = [t for t, op in zip(terms[1:], ops, strict=True) if op in "/÷"]
                products.extend(_formula_products(sheet, col, mult, div))  # type: ignore[arg-type]
    return Facts(products=products, sums=sums)


def _formula_sums(sheet: Sheet, col: int, parts: list[int]) -> Iterator[SumClaim]:
    for r in sheet.data_rows:
        total_q = sheet.value(r.index, col)
        got = [sheet.value(r.index, c) for c in parts]
        if total_q is not None and all(q is not None for q in got):
            yield SumClaim(label=f"表格“{r.label}”{sheet.columns[col].label}", total=total_q, parts=got)  # type: ignore[arg-type]


def _formula_products(sheet: Sheet, col: int, mult: list[int], div: list[int]) -> list[ProductClaim]:
    """Each row's product; the factor between the factors' unit and the column's (元 into 万元) is the one
    the units give, else the one under which most rows hold: a column that names no unit says nothing."""
    rows = []
    for r in sheet.data_rows:
        amount = sheet.value(r.index, col)
        fs = [sheet.value(r.index, c) for c in mult]
        ds = [sheet.value(r.index, c) for c in div]
        if amount is None or any(q is None for q in fs + ds) or any(q.value == 0 for q in ds):  # type: ignore[union-attr]
            continue
        rows.append((r, amount, fs, ds))
    if not rows:
        return []

    def holds(scale: Decimal, amount: Quantity, fs: list[Quantity], ds: list[Quantity]) -> bool:
        comp = Interval.exact(1)
        for q in fs:
            comp = comp * q.interval
        for q in ds:
            comp = comp / q.interval
        return comp.scale(scale).intersects(amount.interval)

    fitting = {k: sum(holds(k, a, fs, ds) for _, a, fs, ds in rows) for k in _SCALES_TRIED}  # type: ignore[arg-type]
    scale = max(_SCALES_TRIED, key=lambda k: fitting[k])
    if 2 * fitting[scale] < len(rows) or (len(rows) < 3 and fitting[scale] < len(rows)):
        return []  # the formula does not read these columns the way we do
    label = sheet.columns[col].label
    return [
        ProductClaim(label=f"表格“{r.label}”{label}", amount=a, factors=fs, divisors=ds, scale=scale)  # type: ignore[arg-type]
        for r, a, fs, ds in rows
    ]


# ----------------------------------------------------------------------------- balances

_INCOME = re.compile(r"收入")
_SPENT = re.compile(r"支出")
_OPENING = re.compile(r"(?:年初|上年|期初)\S{0,4}(?:结转|结余|结存|余额)")
_CLOSING = re.compile(r"(?:年末|期末|累计|滚存)\S{0,4}(?:结转|结余|结存|余额)")
_THIS_YEAR = re.compile(r"(?:本年|当年|当期|收支)\S{0,2}(?:结余|结存)")


@register("tables.balance")
def table_balances(ctx: Context) -> Facts:
    """Balance columns: 本年结余 = 收入 − 支出; 年末结余 = 年初结余 + 本年结余 (or + 收入 − 支出)."""
    flows: list[FundFlow] = []
    for sheet in sheets(ctx):
        flows.extend(_rolled_by_year(sheet))
        flows.extend(_balance_rows(sheet))
        role: dict[str, int] = {}
        for c in sheet.columns:
            if not c.numeric:
                continue
            for name, pat in (
                ("opening", _OPENING),
                ("closing", _CLOSING),
                ("this_year", _THIS_YEAR),
                ("income", _INCOME),
                ("spent", _SPENT),
            ):
                if pat.search(c.label) and name not in role:
                    role[name] = c.index
                    break
        if not ({"income", "spent"} <= role.keys() and role.keys() & {"this_year", "closing"}):
            if not ({"opening", "closing", "this_year"} <= role.keys()):
                continue
        for r in sheet.data_rows:
            got = {k: sheet.value(r.index, c) for k, c in role.items()}
            fields: dict[str, Quantity] = {}
            if got.get("income") is not None:
                fields["allocated"] = got["income"]  # type: ignore[assignment]
            if got.get("spent") is not None:
                fields["spent"] = got["spent"]  # type: ignore[assignment]
            if got.get("this_year") is not None:
                fields["balance"] = got["this_year"].model_copy(update={"label": "本年结余"})  # type: ignore[union-attr]
            if got.get("opening") is not None:
                fields["prior_balance"] = got["opening"]  # type: ignore[assignment]
            if got.get("closing") is not None:
                fields["closing_balance"] = got["closing"]  # type: ignore[assignment]
            if len(fields) >= 3:
                flows.append(FundFlow(name=f"表格“{r.label}”", source="sheet", **fields))
    return Facts(fund_flows=flows)


def _balance_rows(sheet: Sheet) -> list[FundFlow]:
    """Rows 年初结转和结余, 本年收入, 本年支出, 年末结转和结余 over a column of amounts: 年末 = 年初 + 收入 − 支出."""
    role: dict[str, RowInfo] = {}
    for r in sheet.data_rows:
        for name, pat in (("opening", _OPENING), ("closing", _CLOSING), ("income", _INCOME), ("spent", _SPENT)):
            if pat.search(r.label) and name not in role and not _CHANGE_COL.search(r.label):
                role[name] = r
                break
    if len(role) < 4:
        return []
    out = []
    for col in sheet.columns:
        got = {k: sheet.value(r.index, col.index) for k, r in role.items()}
        if any(v is None for v in got.values()):
            continue
        out.append(
            FundFlow(
                name=f"表格“{col.label or '金额'}”",
                prior_balance=got["opening"],
                allocated=got["income"],
                spent=got["spent"],
                closing_balance=got["closing"],
                source="sheet",
            )
        )
    return out


_ROW_ROLE = re.compile(r"(?P<fund>.*?)(?P<role>累计结余|累计结存|滚存结余|年末结余|收入|支出)(?:[(（].*)?$")


def _rolled_by_year(sheet: Sheet) -> list[FundFlow]:
    """Rows of one fund's 收入, 支出 and 累计结余 under year columns: each year's balance rolls the last one on."""
    years = sorted((int(m.group(1)), c.index) for c in sheet.columns if c.numeric and (m := _YEAR.search(c.label)))
    if len(years) < 2:
        return []
    funds: dict[str, dict[str, RowInfo]] = {}
    for r in sheet.data_rows:
        m = _ROW_ROLE.match(r.label)
        if m:
            role = "income" if m.group("role") == "收入" else "spent" if m.group("role") == "支出" else "closing"
            funds.setdefault(m.group("fund"), {}).setdefault(role, r)
    out: list[FundFlow] = []
    for fund, rows in funds.items():
        if len(rows) < 3:
            continue
        for (y0, c0), (y1, c1) in pairwise(years):
            if y1 != y0 + 1:
                continue
            prior = sheet.value(rows["closing"].index, c0)
            closing = sheet.value(rows["closing"].index, c1)
            income = sheet.value(rows["income"].index, c1)
            spent = sheet.value(rows["spent"].index, c1)
            if None in (prior, closing, income, spent):
                continue
            out.append(
                FundFlow(
                    name=f"表格“{fund}”{y1}年",
                    prior_balance=prior,
                    closing_balance=closing,
                    allocated=income,
                    spent=spent,
                    source="sheet",
                    inferred=True,
                )
            )
    return out


# ----------------------------------------------------------------------------- the text restating a table

_ROW_NAME = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．]|其中[:：]?|#)"
)
_DOWN = re.compile(r"减少|下降|降低|压减|减")
_UP_DOWN = re.compile(r"增加|增长|减少|下降|降低|压减|提高")


def _row_name(label: str) -> str:
    """A row's name without its numbering, 其中 mark, spaces or a trailing 合计/小计."""
    name = _ROW_NAME.sub("", re.sub(r"\s+", "", label))
    name = re.sub(r"(?:合计|总计|小计)$", "", name)
    return re.sub(r"[(（][^)）]*[)）]$", "", name)


@register("tables.restated")
def restated(ctx: Context) -> Facts:
    """A figure of the text that names a table row: it must equal that row's cell (in the column the text points to)."""
    from auditor.extract.rules.scan import folded, numbers, quantity
    from auditor.facts import Restatement

    out: list[Restatement] = []
    all_sheets = sheets(ctx)
    if not all_sheets:
        return Facts()
    for p in ctx.paras:
        text = folded(p)
        for n in numbers(p):
            if not n.unit or n.unit == "%":
                continue
            clause = text[n.label_start : n.i]
            change = bool(_UP_DOWN.search(clause[-4:] if len(clause) > 4 else clause))
            sentence = text[max(0, text.rfind("。", 0, n.i) + 1) : n.i]
            hits = [
                hit
                for sheet in all_sheets
                if (hit := _restated_cell(sheet, clause, sentence, change, n.unit)) is not None
            ]
            q = quantity(n)
            sign = -1 if change and _DOWN.search(clause) else 1
            # Two tables may answer the same words: the one that agrees is the one meant; if none does and the
            # words fit more than one table, which one the text restates is not known.
            agree = [h for h in hits if _restates(q, h[1], sign)]
            chosen = agree[:1] or (hits if len(hits) == 1 else [])
            for row, cell in chosen:
                label = f"“{_row_name(row.label) or row.label}”"
                out.append(Restatement(label=label, first=q, second=cell, sign=sign))  # type: ignore[arg-type]
    return Facts(restatements=out)


def _restates(q: Quantity, cell: Quantity, sign: int) -> bool:
    scaled = in_common_unit([q, cell])
    return scaled is not None and scaled[0].scale(sign).intersects(scaled[1])


def _same_subject(sheet: Sheet, sentence: str) -> bool:
    """The sentence speaks of what the table's title names (four characters in common, years and numbers aside)."""
    title = re.sub(r"[\d\s年度（）()“”\"单位万元：:，,。]", "", sheet.title + sheet.header_text)
    said = re.sub(r"[\d\s年度（）()“”\"万元：:，,。]", "", sentence)
    return any(title[i : i + 4] in said for i in range(max(0, len(title) - 3)))


def _named_column(sheet: Sheet, name: str, sentence: str = "") -> str | None:
    """The label of the numeric column the clause names (the longest such); a column headed by a year is named
    by its label without the year when the sentence gives that year."""
    found = []
    years = set(_YEAR.findall(sentence))
    for c in sheet.columns:
        if not c.numeric:
            continue
        # A sub-column is named by its own words too: "门诊收入" for the column headed 其中:门诊收入.
        hit = next((x for x in _column_names(c.label) if len(x) >= 3 and x in name), None)
        if hit is not None:
            found.append(hit)
            continue
        m = _YEAR.search(c.label)
        bare = re.sub(r"^(?:19|20)\d\d年(?:度)?", "", c.label)
        if m and m.group(1) in years and len(bare) >= 2 and bare != c.label and bare in name:
            found.append(bare)
    return max(found, key=len) if found else None


def _column_names(label: str) -> list[str]:
    """The ways a text names a column: its label, the sub-label's own words (门诊收入 for 其中:门诊收入), either
    without the unit in brackets."""
    own = re.split(r"[:：]", label)[-1]
    return list(dict.fromkeys(x for t in (label, own) for x in (t, re.sub(r"[(（][^)）]*[)）]$", "", t))))


# What a clause may add to a column's name and still mean that column: 本次下达 + 资金, 决算 + 合计.
_GENERIC = r"(?:补助|专项|项目)?(?:资金|经费|支出|收入)?(?:合计|总计|总额)?"
_COUNT_WORD = re.compile(r"(?:总数|数量|数)$")
_QUALIFIER = re.compile(r"^(?:截至\S*?|20\d\d年\S{0,4}?)?(?:全国|全省|全市|全县|全区|全州|本级|我市|我县|我区)?")


def _restated_cell(
    sheet: Sheet, clause: str, sentence: str, change: bool, unit: str
) -> tuple[RowInfo, Quantity] | None:
    """The table cell a clause of the text restates: the row its subject names, the column a year or a role
    word of the sentence settles (or the only column there is)."""
    name = re.sub(r"\s+", "", clause)
    name = re.sub(r"(?:共有|共计|总数|达到|达|为|是|增加|增长|减少|下降|降低|提高|比上年|较上年)+$", "", name)
    name = _COUNT_WORD.sub("", _QUALIFIER.sub("", name))
    rows = [r for r in sheet.data_rows if r.kind != "section" and len(_row_name(r.label)) >= 2]
    named = [r for r in rows if name in (_row_name(r.label), _COUNT_WORD.sub("", _row_name(r.label)))]
    by_column = False
    column = None
    if not named:
        # The text may name the column and mean the table's total: "本次下达资金X万元", "…决算合计X万元".
        totals = [r for r in sheet.data_rows if r.kind == "total"]
        raw = re.sub(r"\s+", "", clause)
        column = _named_column(sheet, raw, sentence)
        after = raw[raw.rfind(column) + len(column) :] if column is not None else ""
        if column is not None and not re.fullmatch(_GENERIC + r"(?:为|是|达到|达|共计)?", after):
            column = None  # the figure is of something the clause names after the column (其中含…补助)
        if column is not None:
            # The clause names a column; what else it names decides the row: a row's name, else a row named
            # earlier in the sentence ("X项目……决算数Y万元"), else, for a generic noun, the total.
            rest = re.sub(r"(?:为|是|达到|达)$", "", raw.replace(column, ""))
            named = [r for r in rows if rest == _row_name(r.label)]
            if not named:
                said = re.sub(r"\s+", "", sentence)
                hits = [r for r in rows if len(_row_name(r.label)) >= 3 and _row_name(r.label) in said]
                longest = max((len(_row_name(r.label)) for r in hits), default=0)
                named = [r for r in hits if len(_row_name(r.label)) == longest]
                by_column = len(named) == 1
            if not named and re.fullmatch(_GENERIC, rest):
                named, by_column = (totals if len(totals) == 1 else []), True
        elif len(totals) == 1 and re.search(r"合计|总计|总额", name) and _same_subject(sheet, sentence):
            named, by_column = totals, True
    if len(named) != 1:
        return None
    row = named[0]
    cols = [
        c
        for c in sheet.columns
        if c.numeric and bool(_CHANGE_COL.search(c.label)) == change and sheet.value(row.index, c.index) is not None
    ]
    if column is not None and len(cols) > 1:
        cols = [c for c in cols if column in _column_names(c.label)] or cols
    if by_column and len(cols) > 1:
        cols = [c for c in cols if len(c.label) >= 2 and c.label in name] or cols
    years = set(_YEAR.findall(sentence))
    if len(cols) > 1 and years:
        cols = [c for c in cols if set(_YEAR.findall(c.label)) & years] or cols
    if len(cols) > 1:
        words = [w for w in ("预算", "决算", "执行", "支出", "收入", "下达", "到位") if w in sentence]
        cols = [c for c in cols if any(w in c.label for w in words)] or cols
    if len(cols) != 1:
        return None
    cell = sheet.value(row.index, cols[0].index)
    if cell is None or (by_column and not cell.unit):
        return None  # the table's total stands for the text's figure only when the table says what it counts
    if not cell.unit:
        # A table that names no unit holds plain numbers of what the text counts (个, 人, 元 …).
        base = scale_of(unit)[0]
        cell = cell.model_copy(update={"unit": base})
    if in_common_unit([cell, cell.model_copy(update={"unit": unit})]) is None:
        return None
    return row, cell
