"""Tables in plain text, rebuilt as grids whatever the layout a converter or a web page left them in.

Each finder reads one family of layouts and claims the lines it turns into a grid:

- tab rows (PDF and Word text pasted or converted), including one cell per line after a tab;
- pipe rows, markdown (`| a | b |`) or with only trailing bars (`a | b |`), a row wrapped over
  several lines when an empty cell breaks it;
- cell streams: one cell per line ending in `|` (bars alone on a line are empty cells), or one cell
  per line between blank lines, cut into rows by the period of their numbers;
- rows of space-separated tokens: a label and a fixed count of numbers on each line;
- label-value blocks: lines `名称: 数字` repeated block after block with the same labels (a table
  written one column at a time);
- a whole table on one line, as spreadsheet dumps give it: a label followed by the same count of
  numbers, row after row.

Every cell keeps the document offsets of its text. A grid whose rows cannot be aligned is returned
with `uncertain` set, so that nothing in it is checked.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from auditor.grid import Cell, Grid

_NUMBER = r"[-−+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−+]?\d+(?:\.\d+)?"
# A cell that is a number, perhaps with a unit or a %, or a stand-in for none (—, /, 0).
NUMERIC = re.compile(
    rf"\s*[≥≤<>=]?\s*(?:{_NUMBER})\s*(?:%|％|[万亿]?元|万?人次?|户|个|家|项|次|所|座|张|名|例|辆|批次?|套|台|公里|km|亩|万亩)?\s*"
)
_EMPTY = re.compile(r"\s*(?:—+|-+|/|／|－+|无)?\s*")
_SENTENCE = re.compile(r"[。！？；]")


@dataclass
class _Line:
    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        # A lone tab is an empty table cell, not a blank line.
        return not self.text.strip(" \u3000\r")


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append(_Line(pos, pos + len(line), line))
        pos += len(line) + 1
    return out


def _cell(text: str, a: int, b: int) -> Cell:
    """The cell of text[a:b] with its surrounding blanks left out."""
    while a < b and text[a] in " \t\u3000\r\n":
        a += 1
    while b > a and text[b - 1] in " \t\u3000\r\n":
        b -= 1
    return Cell(text[a:b], a, b) if a < b else Cell()


_YEAR = re.compile(r"\s*(?:19[9]\d|20[0-3]\d)\s*年?\s*")


def kind(cell: Cell) -> str:
    """N for a number, E for an empty cell or a stand-in (—, /), Y for a bare year, T for text."""
    if cell.empty or _EMPTY.fullmatch(cell.text):
        return "E"
    if _YEAR.fullmatch(cell.text):
        return "Y"
    return "N" if NUMERIC.fullmatch(cell.text) else "T"


Finder = Callable[[str, list[_Line], list[bool]], Iterator[tuple[Grid, range]]]


def find_tables(text: str) -> list[Grid]:
    """Every table of a plain text, as grids in document order (offsets into `text`)."""
    lines = _lines(text)
    claimed = [False] * len(lines)
    grids: list[Grid] = []
    for finder in _FINDERS:
        for grid, used in finder(text, lines, claimed):
            for i in used:
                claimed[i] = True
            grids.append(grid)
    return sorted(grids, key=lambda g: g.start)


# ----------------------------------------------------------------------------- tab rows


def _tab_tables(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Tab-separated rows; a block of lines after a lone leading tab is one row, one cell per line."""
    i, n = 0, len(lines)
    rows: list[list[Cell]] = []
    first = last = -1

    def flush() -> Iterator[tuple[Grid, range]]:
        nonlocal rows, first, last
        if rows:
            grid = Grid(rows, lines[first].start, lines[last].end, "tab").squared()
            yield grid, range(first, last + 1)
        rows, first, last = [], -1, -1

    while i < n:
        ln = lines[i]
        if claimed[i] or ln.blank or "\t" not in ln.text:
            if not ln.blank or claimed[i]:
                yield from flush()
            i += 1
            continue
        if ln.text.startswith("\t") and ln.text.count("\t") == 1:
            # One cell per line: cells until the next blank line; a line without the tab continues a cell.
            cells: list[Cell] = []
            j = i
            while j < n and not lines[j].blank and not claimed[j]:
                lj = lines[j]
                if lj.text.startswith("\t") or not cells:
                    cells.append(_cell(text, lj.start + (1 if lj.text.startswith("\t") else 0), lj.end))
                else:
                    prev = cells[-1]
                    joined = _cell(text, prev.start if prev.start >= 0 else lj.start, lj.end)
                    cells[-1] = Cell(_join_lines(joined.text), joined.start, joined.end)
                j += 1
            rows.append(cells)
            first = i if first < 0 else first
            last = j - 1
            i = j
            continue
        row, pos = [], ln.start
        for part in ln.text.split("\t"):
            row.append(_cell(text, pos, pos + len(part)))
            pos += len(part) + 1
        rows.append(row)
        first = i if first < 0 else first
        last = i
        i += 1
    yield from flush()


def _join_lines(s: str) -> str:
    return "".join(part.strip() for part in s.split("\n"))


# ----------------------------------------------------------------------------- pipe rows

_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}")


def _pipe_row(text: str, ln: _Line, markdown: bool) -> list[Cell]:
    """The cells of one pipe line. Markdown rows open and close with a bar; without a leading bar, every bar
    ends a cell (`| x |` is an empty cell, then x)."""
    s = ln.text
    a = len(s) - len(s.lstrip())
    b = len(s.rstrip())
    if markdown and s[a : a + 1] == "|":
        a += 1
    if b > a and s[b - 1] == "|":
        b -= 1
    cells, pos = [], ln.start + a
    for part in s[a:b].split("|"):
        cells.append(_cell(text, pos, pos + len(part)))
        pos += len(part) + 1
    return cells


def _is_pipe_line(s: str) -> bool:
    t = s.strip()
    if t.count("|") < 2 and not (t.startswith("|") and t.endswith("|") and len(t) > 1):
        return False
    # A line of bars and content between them, not one cell ending in a bar (that is a cell stream).
    inner = [p for p in t.strip("|").split("|")]
    return len(inner) >= 2 or t.startswith("|")


def _pipe_tables(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Pipe rows, with or without the leading bar; a wrapped row is joined when its parts make the width."""
    i, n = 0, len(lines)
    while i < n:
        if claimed[i] or not _is_pipe_line(lines[i].text) or _cell_stream_line(lines[i].text):
            i += 1
            continue
        j = i
        block: list[int] = []
        while j < n and not claimed[j]:
            t = lines[j].text
            wrapped = _cell_stream_line(t) and j + 1 < n and lines[j + 1].text.strip().startswith("|") and block
            if (
                _is_pipe_line(t)
                or _PIPE_SEP.match(t.strip().lstrip("|"))
                or (t.strip().startswith("|") and block)
                or wrapped
            ):
                block.append(j)
                j += 1
            elif lines[j].blank and j + 1 < n and _is_pipe_line(lines[j + 1].text) and block:
                j += 1  # a blank line inside a table
            else:
                break
        markdown = sum(lines[k].text.strip().startswith("|") for k in block) > len(block) / 2
        rows = [(k, _pipe_row(text, lines[k], markdown)) for k in block if not _separator(lines[k].text)]
        if len(rows) < 2:
            i = j
            continue
        for part in _split_by_width(rows, markdown, lines):
            ks = [k for k, _ in part]
            out = _join_wrapped(part, markdown, lines)
            width = Counter(len(r) for r in out).most_common(1)[0][0]
            grid = Grid(out, lines[ks[0]].start, lines[ks[-1]].end, "pipe").squared()
            if sum(len(r) != width for r in out) > max(1, len(out) // 3):
                grid.uncertain = "表格各行单元格数不一致，无法对齐"
            yield grid, range(ks[0], ks[-1] + 1)
        i = j


def _join_wrapped(rows: list[tuple[int, list[Cell]]], markdown: bool, lines: list[_Line]) -> list[list[Cell]]:
    """Without leading bars, a line that starts with one continues a row an empty cell cut short."""
    width = Counter(len(r) for _, r in rows).most_common(1)[0][0]
    out: list[list[Cell]] = []
    for k, row in rows:
        t = lines[k].text.strip()
        if not markdown and t.startswith("|") and out and len(out[-1]) < width and len(out[-1]) + len(row) <= width:
            out[-1] = out[-1] + row
            continue
        out.append(row)
    return out


def _split_by_width(
    rows: list[tuple[int, list[Cell]]], markdown: bool, lines: list[_Line]
) -> list[list[tuple[int, list[Cell]]]]:
    """Two tables one after the other: a new width that the following rows keep starts a new table."""
    parts: list[list[tuple[int, list[Cell]]]] = [[]]
    widths = [len(r) for _, r in rows]
    for idx, (k, row) in enumerate(rows):
        cur = parts[-1]
        if len(cur) >= 2:
            before = Counter(len(r) for _, r in cur).most_common(1)[0][0]
            after = widths[idx : idx + 3]
            if len(after) == 3 and len(set(after)) == 1 and after[0] != before and after[0] >= 3:
                parts.append([])
        parts[-1].append((k, row))
    return [p for p in parts if len(p) >= 2]


def _separator(s: str) -> bool:
    t = s.strip()
    return bool(_PIPE_SEP.match(t.lstrip("|"))) or (bool(t) and set(t) <= set("|-: "))


# ----------------------------------------------------------------------------- cell streams


def _cell_stream_line(s: str) -> bool:
    """One cell ending in a bar (`120.38 |`), or bars alone (`|`, `|||`)."""
    t = s.strip()
    if not t:
        return False
    if set(t) <= {"|", " "}:
        return True
    return t.endswith("|") and t.count("|") == 1


_UNIT_LINE = re.compile(r"\s*[（(]?\s*单位\s*[:：]")
_TITLE_LINE = re.compile(r"^\s*(?:附件\s*\d|附表)|[表]\s*$")


def _bar_streams(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Cells each ended by a bar, one per line (a web table saved cell by cell); rows by the period."""
    i, n = 0, len(lines)
    while i < n:
        if claimed[i] or not _cell_stream_line(lines[i].text):
            i += 1
            continue
        first = i
        # The first cell's text may stand on the line before its lone bar.
        if set(lines[i].text.strip()) <= {"|", " "} and i > 0 and not lines[i - 1].blank and not claimed[i - 1]:
            if len(lines[i - 1].text.strip()) <= 30 and "|" not in lines[i - 1].text:
                first = i - 1
        j = i
        last_bar = i
        while j < n and not claimed[j]:
            t = lines[j].text
            if _cell_stream_line(t):
                last_bar = j
            elif lines[j].blank or "|" in t or len(t.strip()) > 40 or _SENTENCE.search(t) or _TITLE_LINE.search(t):
                break
            elif not any(_cell_stream_line(lines[k].text) for k in range(j + 1, min(n, j + 3))):
                break  # a cell's text runs over at most two lines before its bar
            j += 1
        region_a, region_b = lines[first].start, lines[last_bar].end
        cells: list[Cell] = []
        a = region_a
        for m in re.finditer(r"\|", text[region_a:region_b]):
            b = region_a + m.start()
            c = _cell(text, a, b)
            cells.append(Cell(_join_lines(c.text), c.start, c.end) if "\n" in c.text else c)
            a = b + 1
        odd, even = cells[0::2], cells[1::2]
        if len(cells) >= 6 and all(c.text.strip() for c in odd) and not any(c.text.strip() for c in even):
            cells = odd  # every cell followed by a bar alone: the lone bars separate, they hold no cell
        for grid in _stream_grids(cells, region_a, region_b, "cells"):
            yield grid, range(first, last_bar + 1)
        i = last_bar + 1


def _blank_streams(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """One cell per line between blank lines (an HTML table pasted as text); rows by the period."""
    i, n = 0, len(lines)

    def short(k: int) -> bool:
        t = lines[k].text.strip()
        return not claimed[k] and len(t) <= 30 and not _SENTENCE.search(t) and "|" not in t and "\t" not in t

    while i < n:
        if lines[i].blank or not short(i) or _TITLE_LINE.search(lines[i].text) or _UNIT_LINE.match(lines[i].text):
            i += 1  # a title or a unit line above the table is its caption, read as prose
            continue
        cells: list[Cell] = []
        used: list[int] = []
        j = i
        while j < n:
            if not lines[j].blank:
                if not short(j):
                    break
                cells.append(_cell(text, lines[j].start, lines[j].end))
                used.append(j)
                j += 1
                continue
            # One blank line separates cells; a line holding only spaces, or each further pair of blank
            # lines, is an empty cell. A long run of blank lines ends the table.
            run = j
            while run < n and lines[run].blank:
                run += 1
            blanks = run - j
            if blanks > 5:
                break
            spaces = sum(1 for k in range(j, run) if lines[k].text.strip("\n") and not lines[k].text.strip(" \u3000\t"))
            cells.extend([Cell()] * (spaces or (blanks - 1) // 2))
            j = run
        kinds = [kind(c) for c in cells]
        if len(cells) >= 8 and kinds.count("N") >= 4 and _separated_by_blanks(lines, used):
            grids = _stream_grids(cells, lines[used[0]].start, lines[used[-1]].end, "cells")
            if grids:
                for grid in grids:
                    yield grid, range(used[0], used[-1] + 1)
                i = used[-1] + 1
                continue
        i = max(j, i + 1)


def _separated_by_blanks(lines: list[_Line], used: list[int]) -> bool:
    """Most cells stand alone between blank lines (prose lines follow one another)."""
    gaps = sum(1 for a, b in pairwise(used) if b > a + 1)
    return gaps >= 0.8 * (len(used) - 1)


_HEADER_WORD = re.compile(
    r"级指标|指标值|目标值|完成值|实际值|分值|得分|预算数|执行数|决算数|执行率|序号|项目名称|金额|指标名称"
)


def _stream_grids(cells: list[Cell], start: int, end: int, source: str) -> list[Grid]:
    """The tables of a stream: a second header (一级指标 二级指标 … 分值 得分) after rows of numbers starts
    another table with its own width, as a 自评表's money part and indicator part do."""
    kinds = [kind(c) for c in cells]
    cuts = [0]
    seen_numbers = False
    k = 0
    while k < len(cells):
        if kinds[k] == "N":
            seen_numbers = True
        elif (
            seen_numbers
            and k + 3 <= len(cells)
            and all(kinds[j] == "T" and _HEADER_WORD.search(cells[j].text) for j in range(k, k + 3))
        ):
            back = k
            while back > cuts[-1] and kinds[back - 1] == "T" and _HEADER_WORD.search(cells[back - 1].text):
                back -= 1  # the header's first words (一级指标 二级指标) belong to it too
            cuts.append(back)
            seen_numbers = False
            k += 3
            continue
        k += 1
    cuts.append(len(cells))
    whole = _stream_grid(cells, start, end, source)
    if len(cuts) == 2 or _title_width(kinds, cells) is not None:
        return [whole] if whole is not None else []
    parts = []
    for a, b in pairwise(cuts):
        sub = cells[a:b]
        located = [c for c in sub if c.start >= 0]
        if not located:
            continue
        grid = _stream_grid(sub, located[0].start, located[-1].end, source)
        if grid is not None:
            parts.append(grid)
    return parts or ([whole] if whole is not None else [])


def _stream_grid(cells: list[Cell], start: int, end: int, source: str) -> Grid | None:
    """Cut a stream of cells into rows: header cells, then data rows of the width the numbers repeat with."""
    kinds = [kind(c) for c in cells]
    if kinds.count("N") < 2:
        return None
    first_n = kinds.index("N")
    # A bare year before the data heads a column; inside the data it is a value like any other.
    kinds = [("T" if k < first_n else "N") if x == "Y" else x for k, x in enumerate(kinds)]
    # A data row starts at its serial number or its label: the text cell right before its first number,
    # unless that text is a header word the header already used (预算数 决算数 … over one row of numbers).
    if _serial(cells[first_n]) and first_n + 1 < len(kinds) and kinds[first_n + 1] == "T":
        data = first_n
    elif (
        first_n > 0
        and kinds[first_n - 1] == "T"
        and cells[first_n - 1].text not in {c.text for c in cells[: first_n - 1]}
    ):
        data = first_n - 1
    else:
        data = first_n
    serial = _serial_width(cells, data)
    if serial is not None:
        grid = _fixed_rows(cells[data:], kinds[data:], 0, serial, start, end, source)
        grid.rows = [*_header_cells(cells[:data], serial), *grid.rows]
        return grid.squared()
    labelled = _label_rows(kinds, data)
    if labelled is not None:
        width, lead, body_at, ragged = labelled
        # The first row's other labels (一级, 二级 …) stand before the one next to its numbers.
        while lead > 1 and data > 0 and kinds[data - 1] == "T" and body_at[0][0] == data:
            data -= 1
            lead -= 1
            body_at[0] = (data, body_at[0][1])
        body = [cells[a:b][:width] for a, b in body_at]
        header = _header_cells(cells[:data], width)
        grid = Grid([*header, *body], start, end, source).squared()
        grid.ragged = {len(header) + k for k in ragged}
        if ragged:
            grid.notes.append("有行缺少单元格，无法确定其数字所在列")
        return grid
    width = _title_width(kinds, cells)
    if width is not None:
        grid = _fixed_rows(cells, kinds, 0, width, start, end, source)
        grid.uncertain = ""  # a title spanning the table gave the width: the rows are cut at it
        return grid
    width = _period(kinds[data:])
    if width is None:
        runs = re.findall(r"T?N+", "".join(kinds[data:]))
        if len(runs) == 1:
            width = len(runs[0])
    if width is None:
        return Grid([cells], start, end, source, uncertain="单元格无法分行对齐")
    # A row's other labels (一级 二级 …) may stand before the one next to its numbers: start the rows where
    # the header ends in whole rows.
    for o in range(data, max(-1, data - width), -1):
        if o % width == 0 and all(kinds[j] == "T" for j in range(o, data)):
            data = o
            break
    grid = _fixed_rows(cells[data:], kinds[data:], 0, width, start, end, source)
    grid.rows = [*_header_cells(cells[:data], width), *grid.rows]
    return grid.squared()


def _label_rows(kinds: list[str], data: int) -> tuple[int, int, list[tuple[int, int]], set[int]] | None:
    """Rows made of labels, numbers and trailing empty cells, when the data reads that way row after row.

    Returns the width, the labels per row, each row's [start, end) in the stream, and the rows that hold
    fewer numbers than the others with nothing to mark the missing cell (their numbers cannot be placed).
    """
    s = "".join(kinds[data:])
    units = [
        (m.start() + data, m.end() + data, m.group(1), m.group(2))
        for m in re.finditer(r"([TE]*?)(N(?:[NE]*N)?)(E*)", s)
    ]
    if len(units) < 1:
        return None
    shapes = Counter((len(lead), len(nums)) for _, _, lead, nums in units)
    (lead, k), seen = shapes.most_common(1)[0]
    if k < 2 or lead > 3 or (len(units) > 1 and seen < 0.6 * len(units)):
        return None
    widths = Counter(b - a for a, b, x, y in units if (len(x), len(y)) == (lead, k))
    width = widths.most_common(1)[0][0]
    out: list[tuple[int, int]] = []
    ragged: set[int] = set()
    pos = data
    for a, b, x, _y in units:
        head = a + len(x) - lead  # this row's labels; anything before them is rows without numbers
        extra = max(0, head - pos)
        while extra > 0:
            step = width if extra >= width else (1 if extra < lead + 1 else extra)
            out.append((pos, pos + step))
            pos += step
            extra -= step
        if b - pos < width:
            ragged.add(len(out))  # a cell is missing and nothing marks which
        out.append((pos, b))
        pos = b
    out.extend((t, t + 1) for t in range(pos, len(kinds)) if kinds[t] != "E")
    return width, lead, out, ragged


def _serial_width(cells: list[Cell], data: int) -> int | None:
    """Rows that open with their serial number (1, 2, 3 …): the distance from one to the next is the width."""
    if not _serial(cells[data]) or cells[data].text.strip() != "1":
        return None
    nxt = next((k for k in range(data + 2, min(len(cells), data + 30)) if cells[k].text.strip() == "2"), None)
    if nxt is None:
        return None
    width = nxt - data
    third = data + 2 * width
    if third < len(cells) and cells[third].text.strip() not in {"3", "合计", "总计"}:
        return None
    return width


def _title_width(kinds: list[str], cells: list[Cell]) -> int | None:
    """A title cell followed only by empty cells spans the table: its row gives the width (title + 7 bars)."""
    if len(kinds) < 4 or kinds[0] != "T":
        return None
    k = 1
    while k < len(kinds) and kinds[k] == "E":
        k += 1
    return k if k >= 3 else None


def _fixed_rows(cells: list[Cell], kinds: list[str], at: int, width: int, start: int, end: int, source: str) -> Grid:
    """Rows of `width` cells; a row one cell short (a lost empty cell) is found by how the next row lines up."""
    naive = [kinds[k : k + width] for k in range(at, len(kinds), width)]
    template = [Counter(r[c] for r in naive if c < len(r)).most_common(1)[0][0] for c in range(width)]

    def fit(k: int, length: int) -> int:
        row = kinds[k : k + length] + ["E"] * (width - length)
        return sum(1 for a, b in zip(row, template, strict=False) if a == b)

    rows: list[list[Cell]] = []
    k = at
    while k < len(cells):
        best = width
        if k + width < len(cells):
            score_full = fit(k, width) + fit(k + width, width)
            score_short = fit(k, width - 1) + fit(k + width - 1, width)
            if score_short > score_full + 2:
                best = width - 1
        rows.append(cells[k : k + best] + [Cell()] * (width - best))
        k += best
    grid = Grid(rows, start, end, source).squared()
    matched = sum(fit(k, width) for k in range(at, len(kinds), width))
    if matched < 0.6 * len(kinds[at:]):
        grid.uncertain = "单元格无法分行对齐"
    return grid


def _serial(cell: Cell) -> bool:
    return bool(re.fullmatch(r"\s*\d{1,3}\s*", cell.text))


def _period(kinds: list[str]) -> int | None:
    """The row width at which the kinds of cells line up column by column (numbers under numbers).

    A multiple of the true width lines up as well; the smallest width scoring near the best wins.
    """
    scores: list[tuple[int, float]] = []
    for w in range(2, min(24, len(kinds) // 2) + 1):
        rows = [kinds[k : k + w] for k in range(0, len(kinds) - w + 1, w)]
        if len(rows) < 2:
            continue
        agree = sum(max(Counter(r[col] for r in rows).values()) for col in range(w))
        if not any(Counter(r[col] for r in rows).most_common(1)[0][0] == "N" for col in range(w)):
            continue
        scores.append((w, agree / (len(rows) * w)))
    if not scores:
        return None
    top = max(sc for _, sc in scores)
    if top < 0.6:
        return None
    return min(w for w, sc in scores if sc >= top - 0.05)


_CONTINUATION = re.compile(r"\s*(?:[(（][^)）]*[)）]\s*\S{0,3}|\d{1,2}月底?|月底|年度?)\s*")


def _header_cells(cells: list[Cell], width: int) -> list[list[Cell]]:
    """The header before the data as rows of `width` cells, from cells that lost their spans."""
    tokens: list[Cell] = []
    for c in cells:
        if tokens and not c.empty and not tokens[-1].empty and _CONTINUATION.fullmatch(c.text):
            prev = tokens[-1]
            glue = " " if prev.text[-1:].isdigit() and c.text[:1].isdigit() else ""
            tokens[-1] = Cell(prev.text + glue + c.text, prev.start, c.end)  # a unit or a date part of the cell above
            continue
        tokens.append(c)
    # Titles and unit lines standing alone before the header are not columns.
    while len(tokens) > width and tokens and (tokens[0].empty or re.search(r"单位|表\s*\d|表$", tokens[0].text)):
        tokens = tokens[1:]
    if not tokens:
        return []
    if len(tokens) <= width:
        return [[Cell()] * (width - len(tokens)) + tokens]
    row, extra = tokens[:width], tokens[width:]
    # Cells of a second header row stand under the spanning cells of the first (their empty positions).
    holes = [k for k, c in enumerate(row) if c.empty]
    if extra and len(extra) <= len(holes):
        for k, c in zip(holes[-len(extra) :], extra, strict=True):
            row[k] = c
        return [row]
    return [tokens[-width:]]


# ----------------------------------------------------------------------------- space-separated rows

_TOKEN = re.compile(r"\S+")


def _space_tables(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Rows of space-separated tokens: lines with the same number of tokens ending in numbers (or a label and
    a fixed count of numbers with a remark after them), with their header lines above."""
    yield from _even_rows(text, lines, claimed)
    yield from _counted_rows(text, lines, claimed)


def _tokens(ln: _Line) -> list[Cell]:
    return [Cell(m.group(0), ln.start + m.start(), ln.start + m.end()) for m in _TOKEN.finditer(ln.text)]


def _trailing_numbers(cells: list[Cell]) -> int:
    """How many numbers end the row (a — standing for an empty cell among them does not end the run)."""
    n = 0
    for c in reversed(cells):
        k = kind(c)
        if k not in "NYE":
            break
        n += k != "E"
    return n


def _even_rows(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Lines of one token count, each ending in two numbers or more: a table written with spaces."""
    i, n = 0, len(lines)

    def row(k: int) -> list[Cell] | None:
        t = lines[k].text
        if claimed[k] or "|" in t or "\t" in t or _SENTENCE.search(t) or len(t) > 160:
            return None
        cells = _tokens(lines[k])
        return cells if len(cells) >= 3 and _trailing_numbers(cells) >= 2 else None

    while i < n:
        first = row(i)
        if first is None:
            i += 1
            continue
        width = len(first)
        j = i
        while j < n and (r := row(j)) is not None and len(r) == width:
            j += 1
        if j - i < 3:
            i += 1
            continue
        start = i
        # Header lines right above with as many tokens, none of them a number (years aside).
        while start > 0 and not claimed[start - 1] and not lines[start - 1].blank and start > i - 2:
            head = _tokens(lines[start - 1])
            if len(head) != width or any(kind(c) == "N" for c in head):
                break
            start -= 1
        grid = Grid([_tokens(lines[k]) for k in range(start, j)], lines[start].start, lines[j - 1].end, "lines")
        yield grid.squared(), range(start, j)
        i = j


def _counted_rows(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Lines of a label and a fixed count of numbers, a remark after them or not, with their header lines above."""
    i, n = 0, len(lines)

    def numbers(k: int) -> int | None:
        if claimed[k] or "|" in lines[k].text or "\t" in lines[k].text:
            return None
        toks = _TOKEN.findall(lines[k].text)
        if len(toks) < 4:
            return None
        nums = [t for t in toks[1:] if NUMERIC.fullmatch(t)]
        lead = 1
        while lead < len(toks) and NUMERIC.fullmatch(toks[lead]):
            lead += 1
        return lead - 1 if lead - 1 >= 3 and len(nums) == lead - 1 else None

    while i < n:
        count = numbers(i)
        if count is None:
            i += 1
            continue
        j = i
        while j < n and numbers(j) == count:
            j += 1
        if j - i < 3:
            i += 1
            continue
        rows: list[list[Cell]] = []
        first = i
        # Header lines directly above: two or more label tokens, no numbers.
        k = i - 1
        while k >= 0 and not claimed[k] and not lines[k].blank and k >= i - 3:
            toks = _TOKEN.findall(lines[k].text)
            if len(toks) < 2 or len(toks) > count + 2 or any(NUMERIC.fullmatch(t) for t in toks):
                break
            first = k
            k -= 1
        for r in range(first, j):
            ln = lines[r]
            cells = [Cell(m.group(0), ln.start + m.start(), ln.start + m.end()) for m in _TOKEN.finditer(ln.text)]
            if r < i:
                # A header line with a label per number heads the numeric columns; a line of group labels
                # (fewer, each spanning columns nobody marked) stays whole in the label column.
                if len(cells) == count:
                    cells = [Cell(), *cells]
                elif len(cells) != count + 1:
                    cells = [Cell(lines[r].text.strip(), ln.start, ln.end)]
            else:
                head = cells[: count + 1]
                rest = cells[count + 1 :]
                if rest:
                    head.append(Cell(" ".join(c.text for c in rest), rest[0].start, rest[-1].end))
                cells = head
            rows.append(cells)
        yield Grid(rows, lines[first].start, lines[j - 1].end, "lines").squared(), range(first, j)
        i = j


# ----------------------------------------------------------------------------- label-value blocks

# "名称: 12.5" or "名称 12.5" (the number ends the line), or a label alone.
_KV = re.compile(
    rf"^(?P<label>[^|\t]*?\S)(?:\s*[:：]\s*|\s+)(?P<value>{_NUMBER})\s*$"
    rf"|^(?P<bare>[^|\t\d][^|\t]{{1,40}}?)\s*[:：]?\s*$"
)


@dataclass
class _Block:
    title: Cell
    rows: list[tuple[str, Cell, Cell]]  # key, label cell, value cell

    def keys(self) -> list[str]:
        return [k for k, _, _ in self.rows]


def _kv_tables(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """Blocks of `label value` lines repeated with the same labels: one column per block, one row per label."""
    i, n = 0, len(lines)
    while i < n:
        j = i
        items: list[tuple[int, re.Match[str]]] = []
        while j < n and not claimed[j] and not lines[j].blank and len(lines[j].text) <= 80:
            m = _KV.match(lines[j].text.strip())
            if m is None or _SENTENCE.search(lines[j].text):
                break
            items.append((j, m))
            j += 1
        blocks = _kv_blocks(text, lines, items)
        keys = [b.keys() for b in blocks]
        full = [b for b in blocks if any(not v.empty for _, _, v in b.rows)]
        if len(full) >= 2 and len(keys[0]) >= 2 and all(_same_keys(keys[0], k) for k in keys[1:]):
            first_line, last_line = items[0][0], items[-1][0]
            header = [Cell(), *(b.title for b in blocks)]
            rows = [header]
            for r, key in enumerate(keys[0]):
                row = [blocks[0].rows[r][1]]
                for b in blocks:
                    row.append(next((v for k, _, v in b.rows if k == key), Cell()))
                rows.append(row)
            yield (
                Grid(rows, lines[first_line].start, lines[last_line].end, "blocks").squared(),
                range(first_line, last_line + 1),
            )
            i = last_line + 1
            continue
        i = max(i + 1, j)


def _kv_blocks(text: str, lines: list[_Line], items: list[tuple[int, re.Match[str]]]) -> list[_Block]:
    """Cut label-value lines into blocks: a title line, or a label seen again, starts the next block."""
    blocks: list[_Block] = []
    for k, m in items:
        ln = lines[k]
        off = ln.start + (len(ln.text) - len(ln.text.lstrip()))
        if m.group("bare") is not None:
            label = m.group("bare")
            key = _kv_key(label)
            if re.fullmatch(r"其中", key) or not key:
                continue  # "其中:" between blocks: the blocks after it are parts of the one before
            if blocks and blocks[0].rows and key in blocks[0].keys() and key not in blocks[-1].keys():
                blocks[-1].rows.append((key, _cell(text, off, off + len(label)), Cell()))
            else:
                blocks.append(_Block(_cell(text, off, off + len(label)), []))
            continue
        label = m.group("label")
        key = _kv_key(label)
        value = Cell(m.group("value"), off + m.start("value"), off + m.end("value"))
        if not blocks or key in blocks[-1].keys():
            title = _inline_title(text, off, label)
            blocks.append(_Block(title, []))
        blocks[-1].rows.append((key, _cell(text, off, off + len(label)), value))
    return [b for b in blocks if b.rows]


def _inline_title(text: str, off: int, label: str) -> Cell:
    """A block title written before the first label on the same line ("X资金合计(万元) 年度总额:")."""
    parts = label.rsplit(" ", 1)
    return _cell(text, off, off + len(parts[0])) if len(parts) == 2 else Cell()


def _kv_key(label: str) -> str:
    """A label without its 其中 prefix, block title or spacing: what matches it across blocks."""
    s = label.strip().rsplit(" ", 1)[-1]
    s = re.sub(r"^其中[:：]?", "", s)
    return s.strip(":：)）( ")


def _same_keys(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(x.endswith(y) or y.endswith(x) for x, y in zip(a, b, strict=True))


# ----------------------------------------------------------------------------- one-line dumps

_ROLE_WORD = re.compile(
    r"^(?:年度|全年)?(?:指标值|目标值|完成值|实际值|实际完成值|分值|权重|得分|自评分|预算数|执行数|执行率)$"
)


def _line_dumps(text: str, lines: list[_Line], claimed: list[bool]) -> Iterator[tuple[Grid, range]]:
    """A table dumped on one long line: its tokens are a stream of cells, cut into rows like any stream."""
    for k, ln in enumerate(lines):
        if claimed[k] or len(ln.text) < 80 or _SENTENCE.search(ln.text):
            continue
        toks = [Cell(m.group(0), ln.start + m.start(), ln.start + m.end()) for m in _TOKEN.finditer(ln.text)]
        kinds = [kind(t) for t in toks]
        if len(toks) < 12 or kinds.count("N") < 6 or kinds.count("N") < 0.3 * len(toks):
            continue
        grid = _stream_grid(toks, ln.start, ln.end, "oneline")
        if grid is None or grid.uncertain or len(grid.rows) < 3:
            continue
        # The rows start at the first one with a number in every numeric column; what comes before is the
        # dump's header, whose role words (指标值 完成值 分值 得分) head the numeric columns in their order.
        numeric = [c for c in range(grid.width) if sum(kind(r[c]) == "N" for r in grid.rows) >= len(grid.rows) / 2]
        full = [bool(numeric) and all(kind(r[c]) == "N" for c in numeric) for r in grid.rows]
        first, best, run_at = None, 0, None
        for i, ok in enumerate([*full, False]):
            if ok and run_at is None:
                run_at = i
            elif not ok and run_at is not None:
                if i - run_at > best:
                    first, best = run_at, i - run_at
                run_at = None
        if first is None or best < 3:
            continue  # the longest stretch of regular rows is the table; the rest is its scrambled header
        roles = [t for t in toks if _ROLE_WORD.match(t.text) and t.start < grid.rows[first][0].start]
        own = sum(1 for c in grid.rows[0] if _ROLE_WORD.match(c.text.strip()))
        if own < 2 and len(roles) >= len(numeric) > 0:
            head = [Cell()] * grid.width
            for c, t in zip(numeric, roles[-len(numeric) :], strict=True):
                head[c] = t
            grid.rows = [head, *grid.rows[first:]]
            grid.ragged = {r - first + 1 for r in grid.ragged if r >= first}
        yield grid, range(k, k + 1)


_FINDERS: list[Finder] = [
    _tab_tables,
    _pipe_tables,
    _bar_streams,
    _kv_tables,
    _space_tables,
    _blank_streams,
    _line_dumps,
]
