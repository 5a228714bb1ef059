"""A table read as an auditor reads it: header rows, row labels, column labels, units, and each cell's value.

The roles come from words, not positions: a row is a total because its label says 合计/总计/小计 (or
全市, 全省 …), a sub-row because it says 其中 or starts with #, a breakdown because a 按…分 line
announces it; a column is a rate, a share, a change, a budget or a spending because its header says so.
Which rows and columns add up is then settled by the numbers themselves, row after row: a declared total
that adds up nowhere is not a total of those parts (a 合计 of averages, a total of another column group)
and is not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from auditor.extract.rules.scan import NUM, UNIT
from auditor.facts import Evidence, Quantity
from auditor.layout import Para, Span, Table
from auditor.numbers import parse

# A cell value: a number with its unit or %, not a target (≥95%), not a range, not a date.
_VALUE = re.compile(rf"^\s*(?P<num>{NUM})\s*(?P<unit>{UNIT}|千元|万亿元|km|hm|万个|万家)?\s*$")
_YEARISH = re.compile(r"^\s*(?:19[9]\d|20[0-3]\d)\s*年?(?:度|底|末)?\s*$")
_TOTAL = re.compile(r"^(?:合\s*计|总\s*计|共\s*计|总\s*额|总\s*数|全\s*[市省国县区州旗盟]|总\s*体)")
_TOTAL_IN = re.compile(r"合\s*计|总\s*计")
_SUBTOTAL = re.compile(r"小\s*计")
_CHILD = re.compile(r"^\s*(?:其中\s*[:：]?|#|＃|—|－(?!\d)|-(?!\d)|\s{2,}|\u3000)")
_STAND_IN = re.compile(r"\s*(?:—+|-+|/|／|－+)\s*")
_IDENTIFIER = r"编码|代码|编号|序号|行次|栏次|科目号"
_NOT_ADDITIVE = re.compile(
    r"率|比例|占比|比重|%|均|平均|标准|单价|指数|排名|序号|编号|代码|年份|年度|分值|得分|权重|价格|行次|栏次"
)
# A table of averages (院均, 人均, 生均): its rows do not add up to a total row.
AVERAGES = re.compile(r"[院人生户校床次]均|平均")
_MARKS = re.compile(r"[①-⑳](?:\s*=\s*[①-⑳](?:\s*[-+*/×÷＊]\s*[①-⑳])+)?")
# A standard per head or per unit of area: 元/人, 万元/所, 元/亩 (not additive).
_PER_UNIT = re.compile(r"[(（]\s*((?:亿元|万元|千元|元)\s*/\s*[\u4e00-\u9fff]{1,3})\s*[)）]")
_COUNTED = re.compile(r"(人次|人|户|家|个)数$")
_UNIT_DECL = re.compile(r"单位\s*[:：]?\s*(亿元|万元|千元|元|万人|人|户|个|家|张|%)")
_UNIT_PAREN = re.compile(r"[(（]\s*(亿元|万元|千元|元|万人次|人次|万人|人|户|个|家|张|所|%|％)\s*[)）]")


@dataclass
class Column:
    index: int
    label: str = ""
    unit: str = ""
    numeric: bool = False

    @property
    def additive(self) -> bool:
        return self.numeric and not _NOT_ADDITIVE.search(self.label) and self.unit != "%"


@dataclass
class RowInfo:
    index: int
    label: str = ""
    label_cell: Span | None = None
    kind: str = "data"  # header | data | total | subtotal | section
    child: bool = False  # a 其中 / # / indented sub-row of the row above it
    unit: str = ""


@dataclass
class Sheet:
    table: Table
    header: int
    first_value_col: int
    columns: list[Column]
    rows: list[RowInfo]
    unit: str
    values: dict[tuple[int, int], Quantity] = field(default_factory=dict)
    title: str = ""
    truncated: bool = False  # the table runs to the end of the text with a row cut short
    header_text: str = ""

    @property
    def averages(self) -> bool:
        """The whole table holds averages (its title says 院均, 人均 …); a column of them is known by its header."""
        titles = [r for r in self.table.rows[: self.header] if sum(1 for c in r.cells if c.text.strip()) == 1]
        return bool(AVERAGES.search(self.title + " ".join(c.text for r in titles for c in r.cells)))

    @property
    def data_rows(self) -> list[RowInfo]:
        return [r for r in self.rows if r.kind != "header"]

    def value(self, r: int, c: int) -> Quantity | None:
        return self.values.get((r, c))

    def blank(self, r: int, c: int) -> bool:
        """A cell with no number and nothing that would be one: empty, —, /, 无 (a ragged row's cells are unknown)."""
        if self.table.grid is not None and r in self.table.grid.ragged:
            return False
        cells = self.table.rows[r].cells
        if c >= len(cells):
            return True
        return bool(re.fullmatch(r"\s*(?:—+|-+|/|／|－+|无|)\s*", cells[c].text))


def cell_value(cell: Span, label: str, quote_from: Span | None, unit: str) -> Quantity | None:
    """The quantity a cell holds, its evidence running from the row's label to the cell."""
    m = _VALUE.match(cell.text)
    if not m or not cell.offs:
        return None
    parsed = parse(m.group("num"))
    if parsed is None:
        return None
    value, decimals = parsed
    start, end = cell.start, cell.end
    if quote_from is not None and quote_from.offs and quote_from.start < start:
        start = quote_from.start
    u = (m.group("unit") or unit).replace("％", "%")
    return Quantity(
        value=value,
        unit=u,
        text=m.group("num"),
        decimals=decimals,
        evidence=Evidence(quote="", start=start, end=end),
        label=label,
    )


def _squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


def analyse(table: Table, caption: list[Para] | None = None) -> Sheet:
    """Read a table's header, labels, roles and values (see the module docstring)."""
    texts = [[c.text for c in r.cells] for r in table.rows]
    width = max((len(r) for r in texts), default=0)
    is_value = [[bool(_VALUE.match(t)) and not _YEARISH.match(t) for t in r] for r in texts]
    # Header rows: the rows before the first one with a number in it (years and serial numbers aside).
    header = 0
    for k, row in enumerate(is_value):
        if any(row[1:]) or (any(row) and sum(row) >= 2):
            header = k
            break
    else:
        header = len(texts)
    data = range(header, len(texts))
    # A column is numeric when numbers fill it in a good share of the rows that hold numbers at all (a
    # 自评表 mixes money rows, indicator rows and text rows in one grid).
    with_numbers = [r for r in data if any(is_value[r])]
    share = [sum(1 for r in with_numbers if c < len(is_value[r]) and is_value[r][c]) for c in range(width)]
    numeric = [share[c] >= max(1, 0.3 * len(with_numbers)) for c in range(width)]
    # A column of serial numbers (1, 2, 3 …) or of codes (科目编码, 行次) is not data.
    heads = [" ".join(texts[r][c] for r in range(header) if c < len(texts[r])) for c in range(width)]
    for c in range(width):
        if numeric[c] and (
            _serials([texts[r][c] for r in data if c < len(texts[r])]) or re.search(_IDENTIFIER, heads[c])
        ):
            numeric[c] = False
    first_value_col = next((c for c in range(width) if numeric[c]), width)
    for r in data:
        _realign(table, texts, is_value, r, numeric, first_value_col)
    head_rows = texts[:header]
    if table.grid is not None and table.grid.source not in {"pdf", "docx"}:
        head_rows = _unpack_header(head_rows, width, first_value_col)
    labels = _column_labels(head_rows, width)
    title = " ".join(p.text for p in (caption or [])[-2:])
    head = " ".join(" ".join(r) for r in texts[:header])
    table_unit = _declared_unit(title + " " + head)
    if not table_unit:
        # One money unit named in the header's parentheses is the unit of every column that names none.
        named = {m.group(1) for m in _UNIT_PAREN.finditer(head)}
        table_unit = named.pop() if len(named) == 1 and named <= {"亿元", "万元", "千元", "元"} else ""
    columns = []
    for c in range(width):
        plain = _MARKS.sub("", labels[c])  # without the column numbers and formula (③, ⑤=③×④)
        m = _UNIT_PAREN.search(plain) or _PER_UNIT.search(plain)
        unit = m.group(1) if m else ("%" if re.search(r"[(（]\s*%\s*[)）]|率$|比重$|占比$", plain) else "")
        if not unit and (k := _COUNTED.search(plain)):
            unit = k.group(1)  # 合格人数, 户数: whole numbers of people or households, counted exactly
        columns.append(Column(c, labels[c], unit.replace("％", "%"), numeric[c]))
    rows: list[RowInfo] = []
    last_parent: RowInfo | None = None
    for k, r in enumerate(table.rows):
        if k < header:
            rows.append(RowInfo(k, kind="header"))
            continue
        cells = r.cells
        label_cell = next(
            (
                cells[c]
                for c in range(min(first_value_col, len(cells)) - 1, -1, -1)
                if cells[c].text.strip() and not _STAND_IN.fullmatch(cells[c].text)
            ),
            None,
        )
        raw = label_cell.text if label_cell is not None else ""
        label = _squeeze(raw)
        has_values = any(is_value[k][c] for c in range(width) if numeric[c] and c < len(is_value[k]))
        kind = "data"
        if not has_values:
            kind = "section"
        elif _SUBTOTAL.search(label):
            kind = "subtotal"
        elif _TOTAL.match(label) or _TOTAL_IN.search(label):
            kind = "total"
        child = bool(_CHILD.match(raw)) and kind == "data" and last_parent is not None
        m = _UNIT_PAREN.search(raw)
        rows.append(RowInfo(k, label, label_cell, kind, child, m.group(1) if m else ""))
        if kind != "section" and not child:
            last_parent = rows[-1]
    sheet = Sheet(table, header, first_value_col, columns, rows, table_unit, title=title)
    sheet.header_text = " ".join(" ".join(r) for r in texts[:header])
    ragged = table.grid.ragged if table.grid is not None else set()
    for info in sheet.data_rows:
        r = info.index
        if r in ragged:
            continue  # its numbers cannot be placed under their columns
        for col in columns:
            if not col.numeric or col.index >= len(table.rows[r].cells):
                continue
            unit = col.unit if col.unit == "%" else (info.unit or col.unit or table_unit)
            q = cell_value(table.rows[r].cells[col.index], f"{info.label}{col.label}", info.label_cell, unit)
            if q is not None and not _YEARISH.match(table.rows[r].cells[col.index].text):
                sheet.values[(r, col.index)] = q
    return sheet


def _realign(
    table: Table, texts: list[list[str]], is_value: list[list[bool]], r: int, numeric: list[bool], first: int
) -> None:
    """A short row whose label cell spans several columns (合计 over 序号 and 名称) has its numbers pushed left:
    put them back under the numeric columns, counted from the right."""
    row = table.rows[r]
    filled = [c for c, t in enumerate(texts[r]) if t.strip()]
    misplaced = [c for c in filled if is_value[r][c] and not numeric[c] and c < first]
    if not misplaced:
        return
    targets = [c for c in range(first, len(numeric)) if numeric[c]]
    values = [c for c in filled if is_value[r][c] and c >= misplaced[0]]
    in_place = [c for c in values if numeric[c]]
    # Either only some numbers strayed left (and the numeric columns they go to are free), or the whole row
    # lost a cell before its numbers and every number moves one place on.
    if in_place and len(values) != len(targets):
        return
    if not in_place and (len(values) > len(targets) or any(c in filled for c in targets[: len(values)])):
        return
    cells = list(row.cells)
    moved = {t: cells[v] for v, t in zip(values, targets, strict=False)}
    for v in values:
        cells[v] = Span("", [])
    for t, cell in moved.items():
        cells[t] = cell
    row.cells = cells
    texts[r] = [c.text for c in cells]
    is_value[r] = [bool(_VALUE.match(t)) and not _YEARISH.match(t) for t in texts[r]]


def _serials(cells: list[str]) -> bool:
    """1, 2, 3 … down a column (a 合计 or a blank among them aside): a 序号 column, not data."""
    nums = [t.strip() for t in cells if re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", t)]
    if len(nums) < 3 or not all(re.fullmatch(r"\d{1,3}", t) for t in nums):
        return False
    values = [int(t) for t in nums]
    return values == list(range(values[0], values[0] + len(values)))


def _declared_unit(text: str) -> str:
    m = _UNIT_DECL.search(text)
    return m.group(1) if m else ""


_GROUP = re.compile(r"(?:^|其中)[:：]?$|[:：]$")
_UNIT_ONLY = re.compile(r"[(（]\s*(?:单位\s*[:：]\s*)?[^()（）]{1,4}[)）]|单位\s*[:：].{1,4}")


def _unpack_header(header: list[list[str]], width: int, first: int) -> list[list[str]]:
    """Text tables lose merged header cells: a group label (其中:) over its sub-labels becomes one cell and
    every label after it slides left. Spread a two-row header back over the columns when one group label
    and the count of sub-labels under it make the row exactly as wide as the data."""
    filled = [i for i, r in enumerate(header) if sum(1 for t in r if t.strip()) > 1]
    if len(filled) != 2 or filled[1] != filled[0] + 1:
        return header
    top, bottom = ([t for t in header[i] if t.strip()] for i in filled)
    packed = all(
        not any(t.strip() for t in header[i][len(cells) :]) for i, cells in zip(filled, (top, bottom), strict=True)
    )
    groups = [k for k, t in enumerate(top) if _GROUP.search(_squeeze(t))]
    if not packed or len(groups) != 1:
        return header
    lead = bottom[: next((k for k, t in enumerate(bottom) if not _UNIT_ONLY.fullmatch(t.strip())), 0)]
    subs = bottom[len(lead) :]
    if not subs or any(_UNIT_ONLY.fullmatch(t.strip()) for t in subs):
        return header
    spans = [len(subs) if k == groups[0] else 1 for k in range(len(top))]
    if sum(spans) == width:
        at = 0
    elif sum(spans) == width - first:
        at = first  # the label column's header cell was empty
    else:
        return header
    new_top, new_bottom = [""] * width, [""] * width
    for k, t in enumerate(top):
        new_top[at] = t
        if k == groups[0]:
            new_bottom[at : at + len(subs)] = subs
        at += spans[k]
    if lead:
        new_bottom[0] = " ".join(lead)  # a unit under the first label: (千元) under 地区
    out = [list(r) for r in header]
    out[filled[0]], out[filled[1]] = new_top, new_bottom
    return out


def _column_labels(header: list[list[str]], width: int) -> list[str]:
    """Each column's header text, top to bottom; an empty cell under a spanning label inherits it."""
    out = [""] * width
    # A row with text only in its first cell is a title or a unit line over the whole table, not a label.
    header = [r for r in header if sum(1 for t in r if t.strip()) > 1 or not (r and r[0].strip())]
    for r, row in enumerate(header):
        filled = list(row) + [""] * (width - len(row))
        below = header[r + 1] if r + 1 < len(header) else None
        for c in range(width):
            t = _squeeze(filled[c])
            if not t and c > 1 and below is not None and c < len(below) and below[c].strip():
                # A group label spans the columns its sub-labels head (其中: over 门诊 and 住院).
                k = c - 1
                while k > 0 and not _squeeze(filled[k]):
                    k -= 1
                t = _squeeze(filled[k]) if k > 0 else ""
            if t and not re.fullmatch(r"单位[:：].*", t):
                out[c] = out[c] + t if t not in out[c] else out[c]
    return out


def additive_unit(q: Quantity) -> bool:
    """Money and counts add; percentages, per-capita standards and scores do not."""
    return q.unit != "%" and "/" not in q.unit


def dec(q: Quantity) -> Decimal:
    return q.value
