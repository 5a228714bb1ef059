"""Reading a Unit's text as blocks: logical paragraphs and table rows, each char mapped to its offset.

Reports reach us as prose with hard line breaks (PDF text layers, page breaks inside a
sentence), as tab-separated table rows, as one-cell-per-line tables, and as markdown pipe
tables.  Everything downstream reads these blocks, never the raw lines, so a label split
across a line break is still found and every match maps back to a verbatim quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from auditor.normalize import normalize as normal_text

# A line that starts a new numbered item, heading or list entry: never glued to the line before.
_STARTER = re.compile(
    r"^\s*(?:#+|[-*•]\s|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．](?!\d)"
    r"|[①②③④⑤⑥⑦⑧⑨⑩]|——|附件|附表|\*\*)"
)
_ENDS_SENTENCE = re.compile(r"[。！？；：:!?;]\s*(?:\*\*)?\s*$")
_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}")


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
    rows: list[Row] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.rows[0].start

    @property
    def end(self) -> int:
        return self.rows[-1].end


Block = Para | Table


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


def _tab_row(text: str, base: int, a: int, b: int) -> Row:
    cells, pos = [], a
    line = text[a:b]
    for part in line.split("\t"):
        cells.append(_span(text, base, pos, pos + len(part)))
        pos += len(part) + 1
    return Row(cells, base + a, base + b)


def _pipe_row(text: str, base: int, a: int, b: int) -> Row:
    line = text[a:b]
    lead = len(line) - len(line.lstrip())
    inner_a, inner_b = a + lead, b
    stripped = line.strip()
    if stripped.startswith("|"):
        inner_a += 1
    if stripped.endswith("|") and len(stripped) > 1:
        inner_b = a + len(line.rstrip()) - 1
    cells, pos = [], inner_a
    for part in text[inner_a:inner_b].split("|"):
        cells.append(_span(text, base, pos, pos + len(part)))
        pos += len(part) + 1
    return Row(cells, base + a, base + b)


def _join(spans: list[Span]) -> Span:
    text, offs = [], []
    for s in spans:
        text.append(s.text)
        offs.extend(s.offs)
    return Span("".join(text), offs)


def blocks(text: str, base: int = 0) -> list[Block]:
    """Split a Unit's text (starting at document offset `base`) into paragraphs and tables."""
    lines = _lines(text)
    out: list[Block] = []
    i, n = 0, len(lines)
    pending: list[Span] = []  # physical lines of the paragraph being glued

    def flush() -> None:
        if pending:
            joined = _join(pending)
            if joined.text.strip():
                heading = joined.text.lstrip().startswith("#")
                out.append(Para(joined.text, joined.offs, heading=heading))
            pending.clear()

    def add_row(row: Row) -> None:
        flush()
        if out and isinstance(out[-1], Table) and _only_blank_between(text, base, out[-1].end, row.start):
            out[-1].rows.append(row)
        else:
            out.append(Table([row]))

    while i < n:
        a, b = lines[i]
        line = text[a:b]
        if _is_blank(line):
            i += 1
            continue
        if line.startswith("\t") and line.count("\t") == 1:
            # One cell per line (a Word table pasted as text): cells until the next blank line.
            cells: list[list[Span]] = []
            j = i
            while j < n and not _is_blank(text[lines[j][0] : lines[j][1]]):
                ca, cb = lines[j]
                if text[ca:cb].startswith("\t") or not cells:
                    cells.append([_span(text, base, ca + 1 if text[ca:cb].startswith("\t") else ca, cb)])
                else:
                    cells[-1].append(_span(text, base, ca, cb))
                j += 1
            row_end = lines[j - 1][1]
            add_row(Row([_join(c) for c in cells], base + a, base + row_end))
            i = j
            continue
        if "\t" in line:
            add_row(_tab_row(text, base, a, b))
            i += 1
            continue
        if line.lstrip().startswith("|") and line.count("|") >= 2:
            if not _PIPE_SEP.match(line.strip().lstrip("|")) and not set(line.strip()) <= set("|-: "):
                add_row(_pipe_row(text, base, a, b))
            i += 1
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
        i += 1
    flush()
    return out


def _is_heading(pending: list[Span]) -> bool:
    """A short numbered line standing alone ("3. 项目资金预算执行情况") is a heading, not half a sentence."""
    return len(pending) == 1 and len(pending[0].text) <= 25 and _STARTER.match(pending[0].text) is not None


def _only_blank_between(text: str, base: int, a: int, b: int) -> bool:
    # A markdown separator row (|---|:---:|) between rows belongs to the table.
    return not re.sub(r"[|:\-\s]", "", text[a - base : b - base])
