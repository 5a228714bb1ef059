"""Splitting a Document into Units: the separate reports (附件, 自评表) one file may bundle."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from auditor.documents import Document
from auditor.grid import Grid

# "## 附件 1", "附件 1:", "附件2：" standing alone on a line start a bundled report; a line that
# goes on after the colon ("附件 1：XX报告；") is an entry of the cover letter's list.
_ANNEX = re.compile(r"^[ \t#*]*附\s*件\s*[0-9一二三四五六七八九十]+\s*[:：]?[ \t*]*$", re.M)
_TITLE_WORDS = re.compile(r"(自评表|评价报告|自评报告|分析报告|绩效报告|绩效目标表|评价表)\s*$")
_YEAR = re.compile(r"(20\d\d)\s*年")
_FUND = re.compile(r"([\u4e00-\u9fa5]{2,40}?(?:资金|经费)(?:[（(][^）)]{1,30}[）)])?)")


@dataclass(frozen=True)
class Unit:
    """One report inside a file; `start`/`end` are offsets of `text` in the document text."""

    doc: Document
    index: int
    title: str
    fund: str
    year: str
    start: int
    end: int
    # The Unit's tables when split() found them (a file bundling thousands of reports would otherwise scan
    # every table of the document for every Unit).
    found_tables: tuple[Grid, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        return self.doc.text[self.start : self.end]

    @property
    def tables(self) -> list[Grid]:
        """The document's tables that stand in this Unit."""
        if self.found_tables is not None:
            return list(self.found_tables)
        return [g for g in self.doc.tables if self.start <= g.start < self.end]

    def page_of(self, offset: int) -> int | None:
        """Page of a document-level offset (None for text files)."""
        return self.doc.page_of(offset)


def _norm_title(line: str) -> str:
    s = line.strip().strip("#* ").replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", s)


def _cuts(text: str) -> list[int]:
    cuts = {m.start() for m in _ANNEX.finditer(text)}
    # A title line that recurs (three 自评表 in one file) starts a report each time.
    titles: dict[str, list[int]] = {}
    pos = 0
    for line in text.split("\n"):
        if "\t" not in line and 4 <= len(line.strip()) <= 60 and _TITLE_WORDS.search(line.strip()):
            titles.setdefault(_norm_title(line), []).append(pos)
        pos += len(line) + 1
    if not cuts:
        for starts in titles.values():
            if len(starts) >= 2:
                cuts.update(starts)
    # A cut counts once some text stands before it (not text[:c].strip() per cut: that rereads the file).
    first = len(text) - len(text.lstrip())
    return sorted(c for c in cuts if c > first)


def _title(text: str) -> str:
    lines = []
    # Only the first lines can hold the title: read lines until twelve count, not the whole Unit.
    for raw in _head_lines(text):
        ln = raw.strip().strip("#*").strip()
        if ln and "\t" not in ln:
            lines.append(ln)
            if len(lines) == 12:
                break
    for ln in lines[:12]:
        if len(ln) <= 80 and _TITLE_WORDS.search(ln):
            return re.sub(r"\s+", " ", ln)
    for ln in lines[:12]:
        if not _ANNEX.match(ln) and len(ln) <= 80:
            return re.sub(r"\s+", " ", ln)
    return lines[0][:80] if lines else ""


def _head_lines(text: str) -> Iterator[str]:
    pos = 0
    while pos <= len(text):
        nl = text.find("\n", pos)
        nl = len(text) if nl < 0 else nl
        yield text[pos:nl]
        pos = nl + 1


def _fund(text: str, title: str) -> str:
    m = re.search(r"(?:项目\s*\)?\s*名称|项目名称)[^\t\n]*\t+([^\t\n]+)", text)
    if m:
        return m.group(1).strip()
    m = _FUND.search(re.sub(r"^.*?20\d\d年度?", "", title.replace(" ", "")))
    return m.group(1) if m else ""


def split(doc: Document) -> list[Unit]:
    """Cut a Document at 附件 headings and recurring report titles; a cover letter is a Unit too."""
    text = doc.text
    bounds = [0, *_cuts(text), len(text)]
    order = sorted(range(len(doc.tables)), key=lambda k: doc.tables[k].start)
    starts = [doc.tables[k].start for k in order]
    units: list[Unit] = []
    for a, b in pairwise(bounds):
        body = text[a:b]
        if not body.strip():
            continue
        title = _title(body)
        annex = _ANNEX.match(body.lstrip("\n"))
        if annex:
            title = f"{re.sub(r'[^附件0-9一二三四五六七八九十]', '', annex.group(0))}：{title}"
        fund = _fund(body, title)
        year_m = _YEAR.search(title) or _YEAR.search(body[:400])
        # Kept in document order, as the Unit would list them from doc.tables.
        own = tuple(doc.tables[k] for k in sorted(order[bisect_left(starts, a) : bisect_left(starts, b)]))
        units.append(Unit(doc, len(units), title, fund, year_m.group(1) if year_m else "", a, b, own))
    titles = Counter(_norm_title(u.title) for u in units)
    out = []
    for u in units:
        if titles[_norm_title(u.title)] > 1 and u.fund:
            u = Unit(u.doc, u.index, f"{u.title}（{u.fund}）", u.fund, u.year, u.start, u.end, u.found_tables)
        out.append(u)
    return out
