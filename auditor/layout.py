"""Reading a Unit's text as blocks: logical paragraphs and table rows, each char mapped to its offset.

Reports reach us as prose with hard line breaks (PDF text layers, page breaks inside a
sentence), as tab-separated table rows, as one-cell-per-line tables, and as markdown pipe
tables.  Everything downstream reads these blocks, never the raw lines, so a label split
across a line break is still found and every match maps back to a verbatim quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from auditor.grid import Cell, Grid
from auditor.normalize import normalize as normal_text

# A line that starts a new numbered item, heading or list entry: never glued to the line before.
_STARTER = re.compile(
    r"^\s*(?:#+|[-*•]\s|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．](?!\d)"
    r"|[①②③④⑤⑥⑦⑧⑨⑩]|——|附件|附表|\*\*)"
)
_ENDS_SENTENCE = re.compile(r"[。！？；：:!?;]\s*(?:\*\*)?\s*$")


@dataclass
class Span:
    """A piece of text with the document offset of every character."""

    text: str
    offs: list[int]

    def doc_span(self, i: int, j: int) -> tuple[int, int]:
        """Document offsets [start, end) of text[i:j]."""
        j = max(j, i + 1)
        return self.offs[i], self.offs[min(j, len(self.offs)) - 1] + 1

    @property
    def start(self) -> int:
        return self.offs[0] if self.offs else 0

    @property
    def end(self) -> int:
        return self.offs[-1] + 1 if self.offs else 0


@dataclass
class Para(Span):
    """A logical paragraph: physical lines glued when a sentence runs across a break."""

    heading: bool = False


@dataclass
class Row:
    """A table row: its cells as Spans (empty cells keep their place)."""

    cells: list[Span]
    start: int
    end: int

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]


@dataclass
class Table:
    """A table's rows as normalised cell spans, with the grid (layout, merges, certainty) behind it."""

    rows: list[Row] = field(default_factory=list)
    grid: Grid | None = None

    @property
    def start(self) -> int:
        return self.rows[0].start

    @property
    def end(self) -> int:
        return self.rows[-1].end


Block = Para | Table


class Paras(list[Para]):
    """A Unit's paragraphs: a list that can keep what readers index once for the whole Unit."""


def normalize(span: Span) -> Span:
    """The span as readers read it (simplified, ASCII digits, Arabic numerals), keeping the offset map."""
    return Span(*normal_text(span.text, span.offs))


def _span(text: str, base: int, a: int, b: int) -> Span:
    """Span of text[a:b] stripped of surrounding blanks and converter artefacts."""
    while a < b and text[a] in " \t\u3000\r\n":
        a += 1
    while b > a and text[b - 1] in " \t\u3000\r\n":
        b -= 1
    span = normalize(Span(text[a:b], list(range(base + a, base + b))))
    # Markers stripped (**x**) may leave blanks at the edges.
    i, j = 0, len(span.text)
    while i < j and span.text[i] in " \u3000":
        i += 1
    while j > i and span.text[j - 1] in " \u3000":
        j -= 1
    return Span(span.text[i:j], span.offs[i:j])


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _is_blank(s: str) -> bool:
    # A lone tab is an empty table cell, not a blank line.
    return not s.strip(" \u3000\r")


def _join(spans: list[Span]) -> Span:
    text, offs = [], []
    for s in spans:
        text.append(s.text)
        offs.extend(s.offs)
    return Span("".join(text), offs)


def cell_span(text: str, base: int, cell: Cell) -> Span:
    """The normalised text of a grid cell; a cell whose text runs over lines reads as one line."""
    if cell.start < 0:
        return Span("", [])
    parts = []
    pos = cell.start - base
    for line in text[cell.start - base : cell.end - base].split("\n"):
        parts.append(_span(text, base, pos, pos + len(line)))
        pos += len(line) + 1
    return _join(parts)


def table_of(text: str, base: int, grid: Grid) -> Table:
    """A Table block from a grid: its rows of cell spans, and the grid it came from."""
    rows = []
    for r in grid.rows:
        cells = [cell_span(text, base, c) for c in r]
        starts = [c.start for c in r if c.start >= 0]
        ends = [c.end for c in r if c.start >= 0]
        rows.append(Row(cells, min(starts, default=grid.start), max(ends, default=grid.start)))
    return Table(rows, grid)


def _merge(grids: list[Grid], text: str, base: int) -> list[Grid]:
    """Tables with only blank text between (a page break, a Word table split in two) are read as one table."""
    out: list[Grid] = []
    for g in sorted(grids, key=lambda g: g.start):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.source in {"pdf", "docx", "tab"}
            and g.source == prev.source
            and not text[prev.end - base : g.start - base].strip()
        ):
            out[-1] = Grid(prev.rows + g.rows, prev.start, g.end, prev.source, prev.uncertain or g.uncertain).squared()
        else:
            out.append(g)
    return out


def blocks(text: str, base: int = 0, grids: Sequence[Grid] = ()) -> list[Block]:
    """Split a Unit's text (starting at document offset `base`) into paragraphs and the tables `grids` hold."""
    lines = _lines(text)
    out: list[Block] = []
    pending: list[Span] = []  # physical lines of the paragraph being glued
    tables = _merge([g for g in grids if base <= g.start < base + len(text)], text, base)
    k = 0  # next table

    def flush() -> None:
        if pending:
            joined = _join(pending)
            if joined.text.strip():
                heading = joined.text.lstrip().startswith("#")
                for k, (i, j) in enumerate(_pieces(joined.text)):
                    out.append(Para(joined.text[i:j], joined.offs[i:j], heading=heading and k == 0))
            pending.clear()

    for a, b in lines:
        while k < len(tables) and tables[k].start - base < b and tables[k].end - base <= a:
            k += 1
        if k < len(tables) and tables[k].start - base <= b and a < tables[k].end - base:
            if tables[k].start - base >= a:
                flush()
                out.append(table_of(text, base, tables[k]))
            continue  # a line of the table
        line = text[a:b]
        if _is_blank(line):
            continue
        # Prose: glue to the previous physical line unless that one ended a sentence or this one
        # starts a new item.
        span = _span(text, base, a, b)
        if pending and (
            _STARTER.match(line)
            or _ENDS_SENTENCE.search(pending[-1].text)
            or pending[-1].text.lstrip().startswith("#")
            or _is_heading(pending)
        ):
            flush()
        pending.append(span)
    flush()
    return out


# Real paragraphs run to a few thousand characters; a longer one (a file with no line breaks) is read in
# pieces cut at sentence ends, so that what a reader does per number within its paragraph stays bounded.
MAX_PARA = 20_000
_PIECE_ENDS = ("。！？；;!?", "，,、 ")


def _pieces(text: str) -> list[tuple[int, int]]:
    """[start, end) of the pieces of a paragraph, each at most MAX_PARA characters, cut after a sentence end
    (else after a comma, else anywhere)."""
    out, a = [], 0
    while len(text) - a > MAX_PARA:
        b = a + MAX_PARA
        for ends in _PIECE_ENDS:
            cut = max(text.rfind(c, a + MAX_PARA // 2, b) for c in ends)
            if cut >= 0:
                b = cut + 1
                break
        out.append((a, b))
        a = b
    out.append((a, len(text)))
    return out


def _is_heading(pending: list[Span]) -> bool:
    """A short numbered line standing alone ("3. 项目资金预算执行情况") is a heading, not half a sentence."""
    return len(pending) == 1 and len(pending[0].text) <= 25 and _STARTER.match(pending[0].text) is not None
