"""Loading a file into a Document: its full text, the page of every character, and its tables as grids.

PDF and DOCX tables come as Grids built from the table itself (PyMuPDF's find_tables, the Word table's
cells and merges), each cell pointing at its text. In the document text a table stands under one
contract, so quotes and prose around it read naturally: a blank line before and after the table, one
line per row, cells joined by a single tab, one cell per grid column (a merged cell gives its text in
its first row and column and "" in the positions it covers), no newline inside a cell, every cell
stripped. Plain text has its tables found by auditor.texttables in whatever layout it uses.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import io
import re
import shutil
import sys
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from auditor.errors import LoadError
from auditor.grid import Cell, Grid
from auditor.texttables import find_tables

SUFFIXES = {".txt", ".md", ".pdf", ".docx"}

# Reasons are shown to auditors in a CSV cell: short, Chinese, one line.
R_EMPTY = "文件为空"
R_NO_TEXT = "文件没有文字内容"
R_NOT_FOUND = "文件不存在"
R_PERMISSION = "无法读取文件：权限不足"
R_IS_DIR = "无法读取文件：这是一个文件夹"
R_ENCODING = "无法识别文本编码"
R_NOT_TEXT = "文件内容不是文本（后缀与内容不符）"
R_PDF_ENCRYPTED = "PDF 已加密（需要密码）"
R_PDF_NO_PAGES = "PDF 没有页面"
R_PDF_CORRUPT = "PDF 文件损坏或被截断"
R_NOT_PDF = "文件内容不是 PDF（后缀与内容不符）"
R_NEED_OCR = "扫描件无文本层，需安装 tesseract-ocr-chi-sim"
R_DOCX_BAD = "Word 文件损坏或不是 docx"
R_DOC_LEGACY = "旧版 Word .doc 文件（后缀为 .docx），请另存为 docx"
R_DOCX_BOMB = "Word 文件解压后过大（疑似压缩炸弹），未读取"
R_DOCX_HUGE_TABLE = "Word 文件表格过大（单元格超过 200 万个），未读取"

OCR_LANGUAGE = "chi_sim"
OCR_DPI = 300


@dataclass(frozen=True)
class Document:
    """A loaded file. `page_starts[i]` is the text offset where page i+1 begins (None: no pages)."""

    path: Path
    text: str
    page_starts: tuple[int, ...] | None = None
    kind: str = "txt"
    notes: tuple[str, ...] = field(default=())
    tables: tuple[Grid, ...] = field(default=())
    # Word: where each paragraph with text starts (a paragraph with a soft line break is still one paragraph).
    paragraphs: tuple[int, ...] | None = None

    def page_of(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)

    def locate(self, start: int, end: int | None = None) -> str:
        """Where a person finds the text from `start` to `end` in the file itself: the page of a PDF, the
        paragraph or the table and row of a Word file, the line of a text file."""
        last = max(start, (end if end is not None else start + 1) - 1)
        if self.page_starts:
            return _span("第{}页", self.page_of(start) or 1, self.page_of(last) or 1)
        if self.kind == "docx":
            return self._docx_place(start)
        return _span("第{}行", self._line_of(start), self._line_of(last))

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(m.end() for m in re.finditer("\n", self.text))]

    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    @functools.cached_property
    def _docx_index(self) -> tuple[list[int], list[int]]:
        """The starts of the tables (in order), and of the paragraphs with text outside them: Word's own blank
        paragraphs are squeezed out of the text, so counting the visible ones is what a reader can follow."""
        spans = [(g.start, g.end) for g in self.tables]
        if self.paragraphs is not None:
            return [a for a, _ in spans], list(self.paragraphs)
        paragraphs = []
        for a in self._line_starts:
            k = bisect.bisect_right(spans, (a, float("inf"))) - 1
            inside = k >= 0 and spans[k][0] <= a < spans[k][1]
            if not inside and self.text[a : a + 1] not in ("", "\n"):
                paragraphs.append(a)
        return [a for a, _ in spans], paragraphs

    def _docx_place(self, offset: int) -> str:
        table_starts, paragraphs = self._docx_index
        k = bisect.bisect_right(table_starts, offset) - 1
        if k >= 0 and offset < self.tables[k].end:
            rows = self.tables[k].rows
            row = 1
            for r, cells in enumerate(rows, 1):
                starts = [c.start for c in cells if c.start >= 0]
                if starts and min(starts) <= offset:
                    row = r
            return f"表{k + 1}第{row}行"
        return f"第{max(1, bisect.bisect_right(paragraphs, offset))}段"


def _span(shape: str, first: int, last: int) -> str:
    return shape.format(first if first == last else f"{first}–{last}")


def load(path: Path) -> Document:
    """Load a .txt/.md/.pdf/.docx file; raises LoadError with a one-line reason."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LoadError(f"不支持的文件类型 {suffix or '（无后缀）'}", path=str(path))
    data = _read_bytes(path)
    if not data:
        raise LoadError(R_EMPTY, path=str(path))
    try:
        if suffix == ".pdf":
            doc = _load_pdf(path, data)
        elif suffix == ".docx":
            doc = _load_docx(path, data)
        else:
            doc = _load_text(path, data)
    except LoadError as exc:
        if exc.path is None:
            exc.path = str(path)
        raise
    if not doc.text.strip():
        raise LoadError(R_NO_TEXT, path=str(path))
    return doc


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LoadError(R_NOT_FOUND, path=str(path)) from None
    except IsADirectoryError:
        raise LoadError(R_IS_DIR, path=str(path)) from None
    except PermissionError:
        # On Windows opening a directory also lands here; say which it is.
        reason = R_IS_DIR if path.is_dir() else R_PERMISSION
        raise LoadError(reason, path=str(path)) from None
    except OSError as exc:
        raise LoadError(f"无法读取文件：{exc.strerror or type(exc).__name__}", path=str(path)) from None


def _sniff(data: bytes) -> str | None:
    """Name what the bytes really are, from their magic number, for a clearer reason."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "PDF"
    if head.startswith(b"PK\x03\x04"):
        return "zip/Office 文档"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "旧版 Office 文档"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "图片"
    return None


# --------------------------------------------------------------------------- text


def _load_text(path: Path, data: bytes) -> Document:
    text, encoding = _decode_text(data)
    # Keep the text verbatim except line endings: tab layouts in the seeds carry table structure.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    notes = () if encoding == "utf-8" else (f"文本编码 {encoding.upper()}",)
    kind = path.suffix.lower().lstrip(".")
    return Document(path=path, text=text, kind=kind, notes=notes, tables=tuple(find_tables(text)))


def _decode_text(data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), UTF-16/32 with BOM, GB18030, else ask charset-normalizer."""
    for bom, enc in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc).lstrip("\ufeff"), enc
            except UnicodeDecodeError:
                raise LoadError(R_ENCODING) from None
    if _sniff(data) or b"\x00" in data:
        # NUL bytes never occur in UTF-8/GB18030 text: this is a binary file named .txt.
        raise LoadError(R_NOT_TEXT)
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    # charset-normalizer decodes the whole input once per candidate encoding: on a big file it is asked about
    # a sample (cut at a line end, not inside a character) and the file is then decoded with its answer.
    sample = data
    if len(data) > _ENCODING_SAMPLE:
        end = data.rfind(b"\n", 0, _ENCODING_SAMPLE)
        sample = data[: end + 1 if end > 0 else _ENCODING_SAMPLE]
    best = charset_normalizer.from_bytes(sample).best()
    if best is None or best.encoding is None:
        raise LoadError(R_ENCODING)
    if sample is data:
        return str(best).lstrip("\ufeff"), best.encoding
    try:
        return data.decode(best.encoding).lstrip("\ufeff"), best.encoding
    except (UnicodeDecodeError, LookupError):
        raise LoadError(R_ENCODING) from None


_ENCODING_SAMPLE = 1 << 20


# --------------------------------------------------------------------------- line joining


def _separator(x: str, y: str) -> str:
    """What goes between the last char of one wrapped line and the first of the next:
    a space between two ASCII words, nothing next to CJK or punctuation, and nothing between
    two digits (that is one number cut by the wrap: "13805" + "0.24")."""
    if x.isascii() and y.isascii() and x.isalnum() and y.isalnum() and not (x.isdigit() and y.isdigit()):
        return " "
    return ""


def _join_two(a: str, b: str) -> str:
    """Join two lines of one wrapped paragraph or cell (see `_separator`)."""
    if not a:
        return b
    if not b:
        return a
    if a[-1].isspace() or b[0].isspace():
        return a.rstrip() + " " + b.lstrip()
    return a + _separator(a[-1], b[0]) + b


def join_lines(lines: Iterable[str]) -> str:
    """Join the lines of one paragraph or table cell into one line (see `_join_two`)."""
    out = ""
    for line in lines:
        # Only the ends are stripped: a space the line was cut at still says "two words".
        out = _join_two(out, line.strip("\n")) if out.strip() else line.strip()
    return out.strip()


def _cell_text(lines: Iterable[str]) -> str:
    # A tab inside a cell would shift every later cell of the row: make it a space.
    return join_lines(line.replace("\t", " ") for line in lines).strip()


# A table's content as loaders hand it on: rows of (text, merged) cells, one per grid column.
Rows = list[list[tuple[str, bool]]]


def _assemble(
    blocks: list[tuple[str, object]], source: str, paragraphs: list[int] | None = None
) -> tuple[str, list[Grid]]:
    """Blocks are ("p", text) or ("t", rows); the text has a table as tab-joined lines with a blank line before
    and after it, and each table also comes back as a Grid whose cells point at their text. `paragraphs`, when
    given, receives where each paragraph with text starts."""
    text, placed = _place(blocks, paragraphs)
    return text, _grids(placed, source, 0)


# A table as `_place` finds it in the text: per row, per cell, its text, where that text starts (-1: no text)
# and whether it is merged; then the offsets where the table starts and ends.
_Placed = tuple[list[list[tuple[str, int, bool]]], int, int]


def _grids(placed: list[_Placed], source: str, shift: int) -> list[Grid]:
    """The Grids of placed tables, their offsets moved on by `shift` (where the page starts in the document):
    a PDF page's grids are built once, at their final offsets."""
    grids = []
    for rows, start, end in placed:
        cells = [
            [Cell(t, a + shift, a + shift + len(t), m) if t else Cell(merged=m) for t, a, m in row] for row in rows
        ]
        grids.append(Grid(cells, start + shift, end + shift, source))
    return grids


def _place(blocks: list[tuple[str, object]], paragraphs: list[int] | None = None) -> tuple[str, list[_Placed]]:
    """The text of `_assemble` and where each table's cells are in it (and each paragraph, when asked)."""
    lines: list[str] = []
    tables: list[tuple[int, Rows]] = []  # index of a table's first line, its rows
    firsts: list[int] = []  # index of the line of each paragraph with text (a soft break keeps it one line)
    for kind, content in blocks:
        if kind == "t":
            if lines and lines[-1] != "":
                lines.append("")
            rows: Rows = content  # type: ignore[assignment]
            tables.append((len(lines), rows))
            lines.extend("\t".join(text for text, _ in row) for row in rows)
            lines.append("")
        else:
            if str(content).strip():
                firsts.append(len(lines))
            lines.append(str(content))
    raw = "\n".join(lines)
    if not tables and paragraphs is None:  # no offsets to carry over: trimming and squeezing is all there is to do
        return re.sub(r"\n{3,}", "\n\n", raw.strip("\n")), []
    # Empty paragraphs next to a table would stack blank lines; one blank line is the contract. The text is
    # trimmed and blank runs squeezed by dropping characters, so each kept one has a known new offset.
    size = len(raw)
    lead = size - len(raw.lstrip("\n"))
    tail = size - len(raw.rstrip("\n"))
    dropped = [(0, lead)] if lead else []
    dropped += [(m.start() + 2, m.end()) for m in re.finditer(r"\n{3,}", raw)]
    if tail:
        dropped.append((size - tail, size))
    merged: list[list[int]] = []
    for a, b in sorted(dropped):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    starts = [a for a, _ in merged]
    before = [0]  # characters dropped before each dropped range
    for a, b in merged:
        before.append(before[-1] + b - a)
    n = size - before[-1]

    def new_at(pos: int) -> int:
        """Offset in the trimmed text of raw[pos] (of the next kept character when raw[pos] is dropped)."""
        if pos >= size:
            return n
        k = bisect.bisect_right(starts, pos) - 1
        if k < 0:
            return pos
        a, b = merged[k]
        return pos - before[k] - (min(pos, b) - a)

    pieces, at = [], 0
    for a, b in merged:
        pieces.append(raw[at:a])
        at = b
    pieces.append(raw[at:])
    text = "".join(pieces)
    line_starts = [0]
    for line in lines[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)
    placed: list[_Placed] = []
    for first, rows in tables:
        cells: list[list[tuple[str, int, bool]]] = []
        for r, row in enumerate(rows):
            pos = line_starts[first + r]
            out: list[tuple[str, int, bool]] = []
            for cell_text, spanned in row:
                out.append((cell_text, new_at(pos) if cell_text else -1, spanned))
                pos += len(cell_text) + 1
            cells.append(out)
        if cells:
            start = new_at(line_starts[first])
            last = first + len(rows) - 1
            end = new_at(line_starts[last]) + len(lines[last]) if line_starts[last] < size else n
            placed.append((cells, start, end))
    if paragraphs is not None:
        paragraphs.extend(new_at(line_starts[i]) for i in firsts)
    return text, placed


# --------------------------------------------------------------------------- docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


# A real report's .docx unpacks to a few MB: images aside, 200 MB of XML is no report, and lxml needs several
# times that in memory. Deflate cannot shrink anything more than ~1030:1; XML reaches 100:1 at most.
_MAX_UNZIPPED = 200 << 20
_MAX_RATIO = 500
_MAX_MEMBERS = 10_000
# Word tables have at most 63 columns; a grid wider than this is a malformed or hostile file.
_MAX_DOCX_COLUMNS = 1000
_MAX_DOCX_CELLS = 2_000_000


def _load_docx(path: Path, data: bytes) -> Document:
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise LoadError(R_DOC_LEGACY)
    if not data.startswith(b"PK"):
        what = _sniff(data)
        raise LoadError(f"文件内容是 {what}，不是 docx（后缀与内容不符）" if what else R_DOCX_BAD)
    data = _unzip_bounded(data)
    notes: list[str] = []
    try:
        import docx

        body = docx.Document(io.BytesIO(data)).element.body
        blocks = list(_docx_blocks(body, notes))
    except LoadError:
        raise
    except Exception:
        # zipfile.BadZipFile (cut short), KeyError (no word/document.xml), ValueError (another
        # Office type), lxml's XMLSyntaxError (a damaged part), EOFError...: all one reason.
        raise LoadError(R_DOCX_BAD) from None
    paragraphs: list[int] = []
    text, grids = _assemble(blocks, "docx", paragraphs)
    return Document(
        path=path,
        text=text,
        page_starts=None,
        kind="docx",
        notes=tuple(notes),
        tables=tuple(grids),
        paragraphs=tuple(paragraphs),
    )


def _unzip_bounded(data: bytes) -> bytes:
    """The zip's members unpacked and stored again uncompressed, refusing one that unpacks to more than a report
    ever holds. Declared sizes are checked before anything is decompressed; the unpacking itself reads in
    bounded steps, as a member may hold more than it declares and zipfile's own read() would inflate all of it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_MEMBERS or sum(i.file_size for i in infos) > _MAX_UNZIPPED:
                raise LoadError(R_DOCX_BOMB)
            for info in infos:
                if info.file_size > (1 << 20) and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
                    raise LoadError(R_DOCX_BOMB)
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise LoadError(R_DOCX_BAD)  # Word writes neither; zipfile inflates the others unbounded
            # A name given twice is read by python-docx from its last entry: keep that one only.
            last = {info.filename: info for info in infos}
            budget = _MAX_UNZIPPED
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as plain:
                for info in last.values():
                    chunks: list[bytes] = []
                    with archive.open(info) as member:
                        while chunk := member.read(1 << 20):
                            budget -= len(chunk)
                            if budget < 0:
                                raise LoadError(R_DOCX_BOMB)
                            chunks.append(chunk)
                    plain.writestr(zipfile.ZipInfo(info.filename, info.date_time), b"".join(chunks))
    except LoadError:
        raise
    except Exception:
        # BadZipFile (cut short, a CRC that does not match), an encrypted member...: not a readable docx.
        raise LoadError(R_DOCX_BAD) from None
    return out.getvalue()


def _docx_blocks(parent, notes: list[str]) -> Iterator[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """Paragraphs and tables of the body in document order; content controls are looked into."""
    for child in parent.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield "p", _docx_para_text(child)
        elif tag == _W + "tbl":
            yield "t", _docx_table_rows(child, notes)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_blocks(content, notes)
        elif tag == _W + "customXml":
            yield from _docx_blocks(child, notes)


def _docx_cell_paragraphs(parent) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The w:p of a cell in order, including those of a table nested in it (but not text boxes)."""
    for child in parent.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield child
        elif tag in (_W + "tbl", _W + "tr", _W + "tc", _W + "sdt", _W + "sdtContent", _W + "customXml"):
            yield from _docx_cell_paragraphs(child)


def _docx_para_text(p) -> str:  # type: ignore[no-untyped-def]
    """Text of a w:p in order: runs, hyperlinks, insertions, fields; not deleted text or text boxes."""
    parts: list[str] = []

    def walk(el) -> None:  # type: ignore[no-untyped-def]
        for child in el.iterchildren():
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag == _W + "tab":
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag in (_W + "noBreakHyphen",):
                parts.append("-")
            elif tag in (
                _W + "delText",
                _W + "instrText",
                _W + "del",
                _W + "txbxContent",
                _MC_FALLBACK,
                _W + "pPr",
                _W + "rPr",
            ):
                # Deleted text and field codes are not what the reader sees; text boxes would be
                # read twice (mc:Choice and the VML fallback) and out of place.
                continue
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _docx_table_rows(tbl, notes: list[str] | None = None) -> Rows:  # type: ignore[no-untyped-def]
    """One list of cell texts per w:tr, one entry per grid column.

    A cell spanning columns (gridSpan) gives "" in the columns it covers; a cell continuing a
    vertical merge (vMerge without "restart") gives "". python-docx would hand back the same
    merged `_tc` again at those positions; reading the XML gives the same answer directly and
    survives malformed merges (a "continue" in the first row). A row never grows wider than the
    table's grid (or 64 columns, whichever is more): a span of ten million columns is cut there.
    """
    grid = tbl.find(_W + "tblGrid")
    ncols = len(grid.findall(_W + "gridCol")) if grid is not None else 0
    limit = min(max(ncols, 64), _MAX_DOCX_COLUMNS)
    ncols = min(ncols, limit)
    widest = 0  # the widest span cut down to the limit
    rows: Rows = []
    cells = 0
    for tr in tbl.iter(_W + "tr"):
        if tr.getparent() is not tbl:
            continue  # a row of a nested table: its text is part of the outer cell
        before = _grid_value(tr, "gridBefore")
        if before > limit:
            widest = max(widest, before)
        row: list[tuple[str, bool]] = [("", False)] * min(before, limit)
        for tc in tr.iterchildren(_W + "tc"):
            tcpr = tc.find(_W + "tcPr")
            span = 1
            merged_down = False
            if tcpr is not None:
                gs = tcpr.find(_W + "gridSpan")
                if gs is not None:
                    span = max(1, _int(gs.get(_W + "val"), 1))
                vm = tcpr.find(_W + "vMerge")
                merged_down = vm is not None and vm.get(_W + "val", "continue") != "restart"
            if len(row) + span > limit:
                widest = max(widest, span)
                span = max(1, limit - len(row))
            text = "" if merged_down else _cell_text(_docx_para_text(p) for p in _docx_cell_paragraphs(tc))
            row.append((text, merged_down))
            row.extend([("", True)] * (span - 1))
        row.extend([("", False)] * max(0, ncols - len(row)))
        cells += len(row)
        if cells > _MAX_DOCX_CELLS:
            raise LoadError(R_DOCX_HUGE_TABLE)
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    if len(rows) * width > _MAX_DOCX_CELLS:
        raise LoadError(R_DOCX_HUGE_TABLE)
    if widest and notes is not None:
        notes.append(f"Word 表格有单元格跨{widest}列，超出表格宽度，已截断为最多{limit}列")
    return [r + [("", False)] * (width - len(r)) for r in rows]


def _grid_value(tr, name: str) -> int:  # type: ignore[no-untyped-def]
    trpr = tr.find(_W + "trPr")
    if trpr is None:
        return 0
    el = trpr.find(_W + name)
    return _int(el.get(_W + "val"), 0) if el is not None else 0


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# --------------------------------------------------------------------------- pdf


def _block_layout_model() -> None:
    """Make `import pymupdf` skip its optional layout model (see below); a no-op once pymupdf is imported."""
    # PyMuPDF 2.0 tries `import pymupdf.layout` and `import pymupdf4llm` when it is imported: 0.3 s and 57 MB of
    # onnxruntime and numpy for a model the line-based table finder does not use. A None entry in sys.modules
    # makes those imports raise ImportError, which pymupdf catches. Someone who imported them first keeps them.
    if "pymupdf" not in sys.modules:
        for name in ("pymupdf.layout", "pymupdf4llm"):
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]


# Done when this module is imported too, so that a plain `import pymupdf` after it (a worker's preload) is covered.
_block_layout_model()


def _pymupdf():  # type: ignore[no-untyped-def]
    """PyMuPDF without its optional layout model: every import of pymupdf in this module goes through here."""
    _block_layout_model()
    import pymupdf

    # Without the layout package PyMuPDF advertises it on stdout at the first find_tables; a library never prints.
    no_advert = getattr(pymupdf, "no_recommend_layout", None)
    if no_advert is not None:
        no_advert()
    # MuPDF prints its errors to stderr as well as raising them; the reason reaches the user through LoadError.
    with contextlib.suppress(AttributeError):
        pymupdf.TOOLS.mupdf_display_errors(False)
    return pymupdf


def _raise_if_out_of_memory() -> None:
    """MuPDF reports a failed allocation as whatever it was decoding (a "zlib error"): when a little more memory
    cannot be had either, the page was not damaged, the process ran out (a worker's memory cap)."""
    try:
        probe = bytearray(32 << 20)
    except MemoryError:
        raise MemoryError from None
    del probe


def _load_pdf(path: Path, data: bytes) -> Document:
    with _no_cycle_collection():
        return _read_pdf(path, data)


def _read_pdf(path: Path, data: bytes) -> Document:
    pymupdf = _pymupdf()

    if b"%PDF-" not in data[:1024]:
        what = _sniff(data)
        raise LoadError(f"文件内容是 {what}，不是 PDF（后缀与内容不符）" if what else R_NOT_PDF)
    try:
        pdf = pymupdf.open(stream=data, filetype="pdf")
    except Exception:  # FileDataError and MuPDF's own errors: the bytes do not parse as PDF
        _raise_if_out_of_memory()
        raise LoadError(R_PDF_CORRUPT) from None
    notes: list[str] = []
    with pdf:
        if pdf.needs_pass:
            raise LoadError(R_PDF_ENCRYPTED)
        if pdf.is_repaired:
            # MuPDF rebuilds a broken xref silently; a file cut short loses its last pages that way.
            if b"%%EOF" not in data[-2048:]:
                raise LoadError(R_PDF_CORRUPT)
            notes.append("PDF 结构有误，已自动修复")
        if pdf.page_count == 0:
            raise LoadError(R_PDF_NO_PAGES)
        pages: list[_Page] = []
        unreadable: list[int] = []
        for index in range(pdf.page_count):
            before = pymupdf.TOOLS.mupdf_warnings(reset=False)
            try:
                page = _pdf_page(pdf.load_page(index), index + 1)
            except LoadError:
                raise
            except Exception:
                _raise_if_out_of_memory()
                raise LoadError(f"PDF 第{index + 1}页损坏，无法读取") from None
            # MuPDF skips what it cannot decode and only says so in its warning log: a damaged
            # content stream silently loses text, which an auditor must be told about.
            after = pymupdf.TOOLS.mupdf_warnings(reset=False)
            fresh = after[len(before) :] if after.startswith(before) else after
            if _DAMAGE.search(fresh):
                page.notes.append(f"第{index + 1}页内容有损坏，提取的文字可能不全")
            if page.needs_ocr:
                unreadable.append(index + 1)
            pages.append(page)
            notes.extend(page.notes)
    if unreadable:
        if not any(p.text.strip() for p in pages):
            raise LoadError(R_NEED_OCR)
        # Typically a scanned cover letter with a seal in front of a real text report:
        # keep what can be read and say which pages were skipped.
        notes.append(f"第{_page_list(unreadable)}页为扫描件、无文本层，未安装 tesseract-ocr-chi-sim，已跳过")
    if not any(p.text.strip() for p in pages) and any("内容有损坏" in n for n in notes):
        raise LoadError(R_PDF_CORRUPT)
    text, starts, grids = _join_pages(pages)
    return Document(path=path, text=text, page_starts=starts, kind="pdf", notes=tuple(notes), tables=tuple(grids))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Hold off Python's cycle collector while a PDF is read, restoring it as it was."""
    # Reading a page makes hundreds of thousands of short-lived dicts and tuples (none of them in cycles): the
    # collector then runs over and over on the growing heap, some 5 % of the load time, to free nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_DAMAGE = re.compile(r"zlib error|content stream|syntax error|read error|end of file|not a stream")


def _join_pages(pages: list[_Page]) -> tuple[str, tuple[int, ...], list[Grid]]:
    """Pages are separated by a blank line, except where a paragraph runs on to the next page:
    then the two halves are joined as lines of one paragraph are (a label and its number must
    not be cut apart by a page break)."""
    parts: list[str] = []
    starts: list[int] = []
    grids: list[Grid] = []
    length = 0
    previous: _Page | None = None
    for page in pages:
        if previous is None:
            sep = ""
        elif (
            previous.tail is not None
            and page.head is not None
            and _continues(previous.tail, page.head, page.left, previous.right, across_pages=True)
        ):
            sep = _separator(previous.text[-1:], page.text[:1])
        else:
            sep = "\n\n"
        length += len(sep)
        starts.append(length)
        parts.append(sep + page.text)
        grids.extend(_grids(page.tables, "pdf", length))
        length += len(page.text)
        previous = page
    return "".join(parts), tuple(starts), grids


def _page_list(numbers: list[int]) -> str:
    return "、".join(str(n) for n in numbers)


@functools.lru_cache(maxsize=1)
def ocr_available() -> bool:
    """True when Tesseract and its chi_sim language data are installed (PyMuPDF can OCR then)."""
    if shutil.which("tesseract") is None:
        return False
    pymupdf = _pymupdf()
    try:
        tessdata = pymupdf.get_tessdata()
    except Exception:
        return False
    return bool(tessdata) and (Path(tessdata) / f"{OCR_LANGUAGE}.traineddata").is_file()


@dataclass
class _Page:
    """One page's text plus what is needed to join a paragraph running on to the next page."""

    text: str = ""
    tables: list[_Placed] = field(default_factory=list)  # made Grids once the page's offset is known
    notes: list[str] = field(default_factory=list)
    needs_ocr: bool = False
    head: _Line | None = None  # first line, if the page starts with a paragraph
    tail: _Line | None = None  # last line, if the page ends with a paragraph
    left: float = 0.0
    right: float = 0.0


def _pdf_page(page, number: int) -> _Page:  # type: ignore[no-untyped-def]
    """Text of one page with its notes; `needs_ocr` when it has no text layer and no OCR is available."""
    pymupdf = _pymupdf()

    notes: list[str] = []
    textpage = page.get_textpage(flags=pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_IMAGES)
    words: list[_Word] = []
    raw = page.get_text("rawdict", textpage=textpage)
    chars = _raw_chars(raw, words=words)
    if not any(not c.c.isspace() for c in chars):
        if not page.get_image_info() and not page.get_drawings():
            return _Page()  # a blank page
        if not ocr_available():
            return _Page(needs_ocr=True)
        try:
            textpage = page.get_textpage_ocr(language=OCR_LANGUAGE, dpi=OCR_DPI, full=True)
        except Exception:
            raise LoadError(f"PDF 第{number}页 OCR 识别失败") from None
        chars = _raw_chars(page.get_text("rawdict", textpage=textpage), ocr=True)
        notes.append(f"第{number}页经OCR识别")
        tables: list[_Table] = []
        ocr = True
    else:
        tables = _find_tables(page, number, notes, words, raw)
        ocr = False
    bad = list(map(_C, chars)).count("\ufffd")
    if bad and bad > 0.3 * sum(1 for c in chars if not c.c.isspace()):
        notes.append(f"第{number}页文字编码缺失，提取的文字可能是乱码")
    result = _layout_page(chars, tables, ocr=ocr)
    result.notes = notes
    return result


class _Char(NamedTuple):
    c: str
    x0: float
    y0: float
    x1: float
    y1: float
    base: float  # baseline y (origin)
    size: float
    line: int  # index of the MuPDF line this char came from
    # The centre, stored rather than computed on use: every char is placed by it, some several times.
    cx: float
    cy: float


_new = tuple.__new__


def _raw_chars(raw: dict, *, ocr: bool = False, words: list[_Word] | None = None) -> list[_Char]:
    """Characters of a rawdict, tagged with their MuPDF line; diagonal text is left out.

    OCR spans carry a font size guessed per word that swings by a factor of four; there the
    glyph box height is the better measure of the text size. When `words` is given it receives the
    page's words as `page.get_text("words")` would give them, built from the same characters."""
    chars: list[_Char] = []
    append = chars.append
    line_no = 0
    rtl = False
    for block in raw.get("blocks", ()):
        if block.get("type", 0) != 0:
            continue
        for line in block.get("lines", ()):
            line_no += 1
            dx, dy = line.get("dir", (1.0, 0.0))
            # Slanted text is a watermark ("仅供内部使用"), not report content; MuPDF's words include it though.
            keep = not (abs(dx) > 0.1 and abs(dy) > 0.1)
            if words is not None:
                if not ocr:  # the common case: one pass makes the chars and the words
                    rtl = _line_words(line, words, rtl, chars if keep else None, line_no)
                    continue
                rtl = _line_words(line, words, rtl)
            if not keep:
                continue
            for span in line.get("spans", ()):
                size = float(span.get("size") or 10.0)
                for ch in span.get("chars", ()):
                    x0, y0, x1, y1 = ch["bbox"]
                    char_size = (y1 - y0) if ocr and y1 > y0 else size
                    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                    append(_new(_Char, (ch["c"], x0, y0, x1, y1, ch["origin"][1], char_size, line_no, cx, cy)))
    return chars


_INF = float("inf")

# A word as page.get_text("words") gives it: x0, y0, x1, y1, text.
_Word = tuple[float, float, float, float, str]


def _line_words(line: dict, words: list[_Word], rtl: bool, chars: list[_Char] | None = None, line_no: int = 0) -> bool:
    """Append the words of one rawdict line the way MuPDF's extractWORDS cuts them; returns the RTL state.

    A word ends at a char <= U+0020, a no-break space or a bidi control, and where the text switches between
    right-to-left and left-to-right; its box is the union of its chars' non-empty boxes. The line's chars go
    to `chars` on the way (one pass over them instead of two)."""
    append = (chars if chars is not None else []).append  # a line left out still has its words
    buf: list[str] = []
    # The word's box starts inside out, so the first non-empty char box sets it whole (no test for a first one);
    # it holds a box once bx0 < bx1.
    bx0 = by0 = _INF
    bx1 = by1 = -_INF
    for span in line.get("spans", ()):
        size = float(span.get("size") or 10.0)
        for ch in span.get("chars", ()):
            c = ch["c"]
            x0, y0, x1, y1 = ch["bbox"]
            append(_new(_Char, (c, x0, y0, x1, y1, ch["origin"][1], size, line_no, (x0 + x1) / 2, (y0 + y1) / 2)))
            try:
                o = ord(c)
            except TypeError:  # not one code point
                o = 0x10000
            if rtl or not (o > 0x202E or 32 < o < 160 or 160 < o < 0x590 or 0x900 < o < 0x200D):
                # A delimiter, right-to-left text or a joiner: the word may end here (the common char above
                # just goes on the word).
                if not buf and o == 0x200D:
                    continue  # a zero-width joiner cannot start a word
                delimiter = o <= 32 or o == 160 or 0x202A <= o <= 0x202E
                this_rtl = 0x590 <= o <= 0x900
                if delimiter or this_rtl != rtl:
                    if not buf and delimiter:
                        continue
                    if bx0 < bx1:
                        words.append((bx0, by0, bx1, by1, "".join(buf)))
                    buf = []
                    bx0 = by0 = _INF
                    bx1 = by1 = -_INF
                    if delimiter:
                        continue
                rtl = this_rtl
            buf.append(c)
            if x0 < x1 and y0 < y1:
                if x0 < bx0:
                    bx0 = x0
                if y0 < by0:
                    by0 = y0
                if x1 > bx1:
                    bx1 = x1
                if y1 > by1:
                    by1 = y1
    if buf and bx0 < bx1:
        words.append((bx0, by0, bx1, by1, "".join(buf)))
    return rtl


@dataclass
class _Table:
    bbox: tuple[float, float, float, float]
    cells: list[list[tuple[float, float, float, float] | None]]  # per row, per column


def _find_tables(page, number: int, notes: list[str], words: list[_Word], raw: dict) -> list[_Table]:  # type: ignore[no-untyped-def]
    tables: list[_Table] = []
    # Tables are built from ruled lines and rectangles only: on a page that draws nothing (most pages of a
    # report) there is nothing to find.
    paths = page.get_cdrawings()
    columns, rows = _rule_positions(paths)
    if columns * rows > _MAX_RULE_CROSSINGS:
        # The finder pairs every crossing of two rules with the others (quadratic in them): an 80 x 80 grid
        # takes seconds a page; no report table is that dense.
        notes.append(f"第{number}页表格线过密（{rows}×{columns}），未识别表格，按正文读取")
        paths = []
    if paths:
        try:
            tables = _ruled_tables(page, paths, raw)
        except Exception:  # _Unsure, or a drawing this port does not expect: PyMuPDF's own finder decides
            found = _pymupdf_tables(page)
            if found is None:
                notes.append(f"第{number}页表格识别失败，按正文读取")
                return []
            tables = found
    tables.extend(_unruled_tables(page, words, [t.bbox for t in tables]))
    return tables


def _pymupdf_tables(page) -> list[_Table] | None:  # type: ignore[no-untyped-def]
    """The ruled tables of PyMuPDF's line finder, None when it fails."""
    try:
        try:
            # The layout-gated default (PyMuPDF 2.0) drops ruled tables it does not recognise,
            # e.g. the second of two tables on a page; the plain line finder keeps them.
            found = page.find_tables(use_layout=False, paths=page.get_drawings())
        except TypeError:  # PyMuPDF before the use_layout option
            found = page.find_tables()
    except Exception:
        found = None
    if found is None:  # find_tables swallows its own errors and returns None
        return None
    tables = []
    for tab in found.tables:
        # A one-column "table" is a frame drawn around text, not a grid. One-row tables are kept:
        # that is what the rest of a table continued from the previous page looks like.
        if tab.col_count < 2:
            continue
        cells = [[tuple(c) if c is not None else None for c in row.cells] for row in tab.rows]
        tables.append(_Table(tuple(tab.bbox), cells))  # type: ignore[arg-type]
    return tables


# Crossings of horizontal and vertical rules above which a page's ruled tables are not looked for: ~70 x 70,
# about 2 s of find_tables; the densest page of the fixtures has 50 x 32.
_MAX_RULE_CROSSINGS = 5000


def _rule_positions(paths: list[dict]) -> tuple[int, int]:
    """Distinct x of vertical and y of horizontal rules and rectangle sides (to the point) in the raw drawings:
    what bounds the crossings the finder will pair up."""
    xs: set[int] = set()
    ys: set[int] = set()
    for path in paths:
        for item in path.get("items", ()):
            kind = item[0]
            if kind == "re":
                x0, y0, x1, y1 = item[1]
                xs.update((round(x0), round(x1)))
                ys.update((round(y0), round(y1)))
            elif kind == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                if abs(ay - by) <= 1:
                    ys.add(round(ay))
                elif abs(ax - bx) <= 1:
                    xs.add(round(ax))
            elif kind == "qu":
                pts = item[1]
                xs.update((round(min(p[0] for p in pts)), round(max(p[0] for p in pts))))
                ys.update((round(min(p[1] for p in pts)), round(max(p[1] for p in pts))))
    return len(xs), len(ys)


# pdfplumber's line-strategy settings as find_tables uses them: snap, join, minimum edge length and
# intersection tolerance, all 3 points.
_TOL = 3.0


class _Unsure(Exception):
    """The port cannot vouch for matching find_tables on this page (a text test too close to call, a rotated
    page, slanted text): find_tables itself decides."""


def _ruled_tables(page, paths: list[dict], raw: dict) -> list[_Table]:  # type: ignore[no-untyped-def]
    """The ruled tables `page.find_tables(use_layout=False, paths=...)` finds, from the raw drawings.

    A port of the lines strategy of PyMuPDF's table finder (pdfplumber's) on plain floats: find_tables itself
    spends most of its time building dicts for every character. Raises _Unsure when a text test cannot be
    decided from the rawdict characters (find_tables measures them with small glyph heights)."""
    if page.rotation:
        raise _Unsure  # find_tables turns the page upright first
    prect = page.rect
    cx0, cy0, cx1, cy1 = prect.x0, prect.y0, prect.x1, prect.y1
    text = _TableText(page, raw)
    edges: list[list] = []  # [x0, x1, top, bottom, width, height, is_vertical]
    add = edges.append

    def line(ax: float, ay: float, bx: float, by: float) -> None:
        # Only about axis-parallel lines count, cut to the page.
        x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
        y0, y1 = (ay, by) if ay <= by else (by, ay)
        if (x1 - x0 > _TOL and y1 - y0 > _TOL) or x0 > cx1 or x1 < cx0 or y0 > cy1 or y1 < cy0:
            return
        if x0 < cx0:
            x0 = cx0
        if x1 > cx1:
            x1 = cx1
        if y0 < cy0:
            y0 = cy0
        if y1 > cy1:
            y1 = cy1
        width, height = x1 - x0, y1 - y0
        if width == height == 0:
            return
        add([x0, x1, y0, y1, width, height, y0 != y1])

    for x0, y0, x1, y1 in _joined_graphics(paths, text):
        line(x0, y0, x1, y0)
        line(x0, y1, x1, y1)
        line(x0, y0, x0, y1)
        line(x1, y0, x1, y1)
    bbox_edges = edges[:]
    edges.clear()
    for path in paths:
        items = path["items"]
        closing = []
        if path.get("closePath") and items and items[0][0] == "l" and items[-1][0] == "l":
            closing = [("l", items[-1][2], items[0][1])]
        for item in (*items, *closing):
            kind = item[0]
            if kind == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                line(ax, ay, bx, by)
            elif kind == "re":
                ax, ay, bx, by = item[1]
                # min() and max() spelled out: the same values (ties give the first), without four calls.
                x0, x1 = (bx if bx < ax else ax), (bx if bx > ax else ax)
                y0, y1 = (by if by < ay else ay), (by if by > ay else ay)
                w, h = x1 - x0, y1 - y0
                if (w <= _TOL and w < h) or (h <= _TOL and h < w):  # a filled bar drawn as a rule
                    if w < h:
                        x = abs(x1 + x0) / 2
                        line(x, y0, x, y1)
                    else:
                        y = abs(y1 + y0) / 2
                        line(x0, y, x1, y)
                    continue
                line(x0, y0, x0, y1)
                line(x0, y1, x1, y1)
                line(x1, y1, x1, y0)
                line(x1, y0, x0, y0)
            elif kind == "qu":
                (ulx, uly), (urx, ury), (llx, lly), (lrx, lry) = item[1]
                line(ulx, uly, llx, lly)
                line(llx, lly, lrx, lry)
                line(lrx, lry, urx, ury)
                line(urx, ury, ulx, uly)
    edges.extend(bbox_edges)
    edges = _merge_edges(edges)
    cells = _intersections_to_cells(edges)
    tables: list[_Table] = []
    for group in _cells_to_groups(cells, text):
        xs = sorted({c[0] for c in group})
        rows = []
        for _, row in groupby(sorted(group, key=lambda c: (c[1], c[0])), key=lambda c: c[1]):
            at = {c[0]: c for c in row}
            rows.append([at.get(x) for x in xs])
        if len(xs) < 2:
            continue
        bbox = (min(c[0] for c in group), min(c[1] for c in group), max(c[2] for c in group), max(c[3] for c in group))
        tables.append(_Table(bbox, rows))  # type: ignore[arg-type]
    return tables


# How far a derived glyph box may be from the one find_tables measures before a text test counts as too close.
_EPS = 0.05


# A character's glyph box as find_tables measures it (x0, top, x1, bottom) and the rawdict character.
_Box = tuple[float, float, float, float, dict]


class _TableText:
    """The page's characters as find_tables' text tests see them: glyph boxes one font size high, split by
    the font's ascender and descender, and the page's PDF (bottom-up) y for the graphics test."""

    def __init__(self, page, raw: dict) -> None:  # type: ignore[no-untyped-def]
        self.raw = raw
        self.height = page.rect.height
        m = page.transformation_matrix
        self.flip = (m.a, m.b, m.c, m.d, m.e, m.f) == (1, 0, 0, -1, 0, self.height)
        self._done: list[_Box] = []
        self._todo: Iterator[list[_Box]] | None = None

    def spans(self) -> Iterator[list[_Box]]:
        """Lists of (x0, top, x1, bottom, rawdict char) per character (see `_kind`), in page order; each box is
        derived once, and only when a test gets that far (most stop at the first character that decides them).
        Tests walk each list themselves: a generator step per character would cost more than the test."""
        yield self._done
        if self._todo is None:
            if not self.flip:
                raise _Unsure
            # A function of the rawdict, not a method: a generator holding `self` would make a cycle that keeps
            # the whole rawdict alive until the cycle collector runs, which is held off while a PDF is read.
            self._todo = _derive_boxes(self.raw)
        done = self._done
        for span in self._todo:
            done.extend(span)
            yield span

    def any_inside(self, rect: tuple[float, float, float, float]) -> bool:
        """find_tables' chars_in_rect: a character wholly inside `rect`, with its y taken bottom-up."""
        rx0, ry0, rx1, ry1 = rect
        e = _EPS
        # The rectangle's y range turned upside down instead of every character's (a rounding apart, well
        # inside the margin).
        low, high = self.height - ry1, self.height - ry0
        unsure = False
        for span in self.spans():
            for x0, top, x1, bottom, ch in span:
                if rx0 - e <= x0 and x1 <= rx1 + e and low - e <= top and bottom <= high + e:
                    if (
                        rx0 + e <= x0
                        and x1 <= rx1 - e
                        and low + e <= top
                        and bottom <= high - e
                        and _kind(ch) == _SOLID
                    ):
                        return True
                    unsure = True
        if unsure:
            raise _Unsure
        return False

    def overlaps(self, rect: tuple[float, float, float, float]) -> bool:
        """find_tables' has_text: a non-blank character overlapping `rect` (strictly)."""
        rx0, ry0, rx1, ry1 = rect
        e = _EPS
        unsure = False
        for span in self.spans():
            for x0, top, x1, bottom, ch in span:
                if x0 < rx1 + e and x1 > rx0 - e and top < ry1 + e and bottom > ry0 - e:
                    kind = _kind(ch)
                    if kind == _BLANK:
                        continue
                    if kind == _SOLID and x0 < rx1 - e and x1 > rx0 + e and top < ry1 - e and bottom > ry0 + e:
                        return True
                    unsure = True
        if unsure:
            raise _Unsure
        return False


def _derive_boxes(raw: dict) -> Iterator[list[_Box]]:
    """The boxes of `_TableText` span by span."""
    for block in raw.get("blocks", ()):
        if block.get("type", 0) != 0:
            continue
        for ln in block.get("lines", ()):
            if ln.get("dir", (1.0, 0.0)) != (1.0, 0.0) or ln.get("wmode", 0):
                raise _Unsure  # slanted or vertical text: its small box is not derived here
            for span in ln.get("spans", ()):
                asc, dsc, size = span["ascender"], span["descender"], span["size"]
                if asc - dsc < 1:
                    raise _Unsure
                up = size * asc / (asc - dsc)
                down = size * dsc / (asc - dsc)
                # The char itself stands last: its kind is only asked for the few a test gets that far with.
                yield [
                    ((b := ch["bbox"])[0], (base := ch["origin"][1]) - up, b[2], base - down, ch)
                    for ch in span.get("chars", ())
                ]


def _kind(ch: dict) -> int:
    """What a rawdict character is to find_tables' text tests (_SOLID, _BLANK or _DOUBTFUL)."""
    c = ch["c"]
    return _SPACES.get(c) or (_SOLID if (b := ch["bbox"])[0] < b[2] and len(c) == 1 else _DOUBTFUL)


# What a character is to find_tables' text tests: text, blank (never text to it), or a character its own text
# extraction may leave out or keep (another kind of space; a glyph without width).
_SOLID, _BLANK, _DOUBTFUL = 0, 1, 2
_WIDE_SPACES = (0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
# Every character str.isspace() knows; find_tables never counts the ASCII ones as text.
_SPACES = {
    chr(i): _BLANK if chr(i) in " \t\n\r\x0b\x0c" else _DOUBTFUL
    for i in (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), *_WIDE_SPACES)
}


def _neighbors(r1: tuple[float, ...], r2: tuple[float, ...]) -> bool:
    t = _TOL
    if (r2[0] - t <= r1[0] <= r2[2] + t or r2[0] - t <= r1[2] <= r2[2] + t) and (
        r2[1] - t <= r1[1] <= r2[3] + t or r2[1] - t <= r1[3] <= r2[3] + t
    ):
        return True
    return (r1[0] - t <= r2[0] <= r1[2] + t or r1[0] - t <= r2[2] <= r1[2] + t) and (
        r1[1] - t <= r2[1] <= r1[3] + t or r1[1] - t <= r2[3] <= r1[3] + t
    )


def _joined_graphics(paths: list[dict], text: _TableText) -> list[tuple[float, float, float, float]]:
    """find_tables' clean_graphics: path rectangles that almost touch joined into one, kept when text is
    inside; each adds its four sides as rules."""
    rects = sorted({tuple(map(float, p["rect"])) for p in paths}, key=lambda r: (r[3], r[0]))
    if any(r[0] > r[2] or r[1] > r[3] for r in rects):
        raise _Unsure  # PyMuPDF's Rect arithmetic on an inverted rectangle is not reproduced here
    t = _TOL
    # Neighbours overlap once widened by the tolerance: most rectangles fail that at once.
    wide = [(r[0] - t, r[1] - t, r[2] + t, r[3] + t) for r in rects]
    out = []
    while rects:
        x0, y0, x1, y1 = rects[0]
        repeat = True
        while repeat:
            repeat = False
            for i in range(len(rects) - 1, 0, -1):
                w = wide[i]
                if w[0] > x1 or w[2] < x0 or w[1] > y1 or w[3] < y0:
                    continue
                r = rects[i]
                if _neighbors((x0, y0, x1, y1), r):
                    x0, y0, x1, y1 = min(x0, r[0]), min(y0, r[1]), max(x1, r[2]), max(y1, r[3])
                    del rects[i], wide[i]
                    repeat = True
        if text.any_inside((x0, y0, x1, y1)):
            out.append((x0, y0, x1, y1))
        del rects[0], wide[0]
    return out


def _merge_edges(edges: list[list]) -> list[tuple]:
    """pdfplumber's merge_edges and filter_edges: snap rules to their cluster's mean position, join
    collinear rules closer than the tolerance, drop those shorter than it."""
    out: list[tuple] = []
    for vertical in (False, True):
        key = 0 if vertical else 2
        group = [e for e in edges if e[6] is vertical]
        clusters: list[list[list]] = []
        index: dict[float, int] = {}
        last = None
        for v in sorted({e[key] for e in group}):
            if last is None or v > last + _TOL:
                clusters.append([])
            index[v] = len(clusters) - 1
            last = v
        for e in group:
            clusters[index[e[key]]].append(e)
        # Snapped, then in groups along one line (by position, the original order kept within one).
        lines: dict[float, list[tuple]] = {}
        for cluster in clusters:
            avg = sum(e[key] for e in cluster) / len(cluster)
            for x0, x1, top, bottom, width, height, _ in cluster:
                if vertical:
                    d = avg - x0
                    x0, x1 = x0 + d, x1 + d
                    lines.setdefault(x0, []).append((top, bottom, x0, x1, width, height))
                else:
                    d = avg - top
                    top, bottom = top + d, bottom + d
                    lines.setdefault(top, []).append((x0, x1, top, bottom, width, height))
        for pos in sorted(lines):
            joined: list[list] = []
            for e in sorted(lines[pos], key=_FIRST):
                if joined and e[0] <= joined[-1][1] + _TOL:
                    last_e = joined[-1]
                    if e[1] > last_e[1]:
                        # pdfplumber's resize_object: a vertical rule's height grows by the difference.
                        if vertical:
                            last_e[5] = last_e[5] + (e[1] - last_e[1])
                        else:
                            last_e[4] = e[1] - last_e[0]
                        last_e[1] = e[1]
                else:
                    joined.append(list(e))
            for lo, hi, a, b, width, height in joined:
                if vertical and height >= _TOL:
                    out.append((a, b, lo, hi, width, height, True))
                elif not vertical and width >= _TOL:
                    out.append((lo, hi, a, b, width, height, False))
    return out


_FIRST = itemgetter(0)


def _intersections_to_cells(edges: list[tuple]) -> list[tuple[float, float, float, float]]:
    """pdfplumber's edges_to_intersections and intersections_to_cells: the smallest rectangle from each
    rule crossing whose four corners are crossings joined by rules."""
    vs = sorted((e for e in edges if e[6]), key=itemgetter(0, 2))
    hs = sorted((e for e in edges if not e[6]), key=itemgetter(2, 0))
    tops = [h[2] for h in hs]
    # Rules stand in the crossings' sets as a number per distinct box (the box itself would be hashed again at
    # every set test): equal boxes share one, as they would as tuples.
    hids: dict[tuple, int] = {}
    hboxes = [hids.setdefault((h[0], h[2], h[1], h[3]), len(hids)) for h in hs]
    vids: dict[tuple, int] = {}
    points: dict[tuple[float, float], tuple[set, set]] = {}
    for v in vs:
        x, vtop, vbottom = v[0], v[2], v[3]
        vbox = vids.setdefault((x, vtop, v[1], vbottom), len(vids))
        # Only rules at a height the vertical one reaches can cross it; hs is in order of height.
        lo = bisect.bisect_left(tops, vtop - _TOL - 1)
        hi = bisect.bisect_right(tops, vbottom + _TOL + 1)
        for k in range(lo, hi):
            h = hs[k]
            y = h[2]
            if vtop <= y + _TOL and vbottom >= y - _TOL and x >= h[0] - _TOL and x <= h[1] + _TOL:
                at = points.get((x, y))
                if at is None:
                    at = points[(x, y)] = (set(), set())
                at[0].add(vbox)
                at[1].add(hboxes[k])

    ordered = sorted(points)
    by_x: dict[float, list[tuple[float, float]]] = {}
    by_y: dict[float, list[tuple[float, float]]] = {}
    at_x, at_y = [], []  # where each point sits in its column and in its row
    for p in ordered:
        column, row = by_x.setdefault(p[0], []), by_y.setdefault(p[1], [])
        at_x.append(len(column))
        at_y.append(len(row))
        column.append(p)
        row.append(p)
    # Two crossings in one column are joined when a vertical rule passes through both, two in one row when a
    # horizontal one does (pdfplumber's edge_connects).
    cells = []
    for n, pt in enumerate(ordered):
        pv, ph = points[pt]
        right = by_y[pt[1]][at_y[n] + 1 :]
        if not right:
            continue
        found = None
        for b in by_x[pt[0]][at_x[n] + 1 :]:
            bh = points[b][1]
            if pv.isdisjoint(points[b][0]):
                continue
            for r in right:
                if ph.isdisjoint(points[r][1]):
                    continue
                corner = points.get((r[0], b[1]))
                if corner is not None and not corner[0].isdisjoint(points[r][0]) and not corner[1].isdisjoint(bh):
                    found = (pt[0], pt[1], r[0], b[1])
                    break
            if found:
                break
        if found:
            cells.append(found)
    return cells


def _cells_to_groups(cells: list[tuple[float, float, float, float]], text: _TableText) -> list[list]:
    """pdfplumber's cells_to_tables as PyMuPDF has it: cells sharing a corner make one table; a table of
    one column or without text is dropped; top to bottom."""
    remaining = list(cells)
    corners: set[tuple[float, float]] = set()
    current: list[tuple[float, float, float, float]] = []
    groups: list[list] = []
    while remaining:
        count = len(current)
        left = []
        for cell in remaining:
            x0, top, x1, bottom = cell
            a, b, c, d = (x0, top), (x0, bottom), (x1, top), (x1, bottom)
            if not current or a in corners or b in corners or c in corners or d in corners:
                corners.update((a, b, c, d))
                current.append(cell)
            else:
                left.append(cell)
        remaining = left
        if len(current) == count:
            groups.append(list(current))
            corners.clear()
            current.clear()
    if current:
        groups.append(list(current))
    kept = []
    for group in groups:
        if len({c[2] for c in group}) < 2 or len({c[0] for c in group}) < 2:
            continue
        box = (min(c[0] for c in group), min(c[1] for c in group), max(c[2] for c in group), max(c[3] for c in group))
        if text.overlaps(box):
            kept.append(group)
    return sorted(kept, key=lambda t: min((c[1], c[0]) for c in t))


_NUMERIC_CELL = re.compile(r"\s*[-−]?\d[\d,]*(?:\.\d+)?\s*%?\s*")
# Clause punctuation: a word holding it is a piece of a sentence, not a table cell.
_CLAUSE = re.compile(r"[，。；]")


def _unruled_tables(page, words: list[_Word], ruled: list[tuple[float, float, float, float]]) -> list[_Table]:  # type: ignore[no-untyped-def]
    """Tables drawn without rules: lines of several words whose numbers line up in columns.

    The words are the page's own (as `page.get_text("words")` cuts them), their columns and rows are taken from
    the gaps between them. A block counts as a table with three lines or more, three columns or more, and
    numbers in a third of its words; ordinary paragraphs (one word per line in Chinese, or words without
    numbers) never qualify.
    """
    words = [w for w in words if w[4].strip()]
    rows: list[list[tuple]] = []
    for w in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        cy = (w[1] + w[3]) / 2
        if rows and abs(cy - (rows[-1][0][1] + rows[-1][0][3]) / 2) <= 0.5 * (w[3] - w[1]):
            rows[-1].append(w)
        else:
            rows.append([w])
    out: list[_Table] = []
    block: list[list[tuple]] = []

    def numeric(row: list[tuple]) -> int:
        return sum(1 for w in row if _NUMERIC_CELL.fullmatch(w[4]))

    def close() -> None:
        data = [r for r in block if numeric(r) >= 2]
        if len(block) >= 3 and len(data) >= 2:
            table = _columns_table(page, block, data, ruled)
            if table is not None:
                out.append(table)
        block.clear()

    # A narrow line between two table lines (a label centred in a cell merged over rows) stays in the block.
    wide = [len(r) >= 3 or (len(r) >= 2 and numeric(r) >= 1) for r in rows]
    for k, row in enumerate(rows):
        inside = bool(block) and k + 1 < len(rows) and wide[k + 1] and len(row) <= 2
        near = not block or (row[0][1] - max(w[3] for w in block[-1])) < 2.5 * (row[0][3] - row[0][1])
        if (wide[k] or inside) and near:
            block.append(sorted(row, key=lambda w: w[0]))
        else:
            close()
            if wide[k]:
                block.append(sorted(row, key=lambda w: w[0]))
    close()
    return out


def _columns_table(page, block: list[list[tuple]], data: list[list[tuple]], ruled) -> _Table | None:  # type: ignore[no-untyped-def]
    words = [w for r in block for w in r]
    # The table's box is its words' plus 2 points all round (see below): on top of a ruled table it is none.
    box = (
        min(w[0] for w in words) - 2,
        min(w[1] for w in words) - 2,
        max(w[2] for w in words) + 2,
        max(w[3] for w in words) + 2,
    )
    if any(_overlap(box, b) for b in ruled):
        return None
    spans = sorted((w[0], w[2]) for r in data for w in r)
    merged: list[list[float]] = []
    for x0, x1 in spans:
        if merged and x0 <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    if len(merged) < 3:
        return None
    if sum(1 for w in words if _NUMERIC_CELL.fullmatch(w[4])) < len(words) / 3:
        return None
    xs = [min(merged[0][0], min(w[0] for w in words)) - 2]
    for a, b in pairwise(merged):
        # A boundary in the gap between two columns of numbers, where it cuts no word (a header wider than
        # its numbers stands over the gap).
        cut = [(w[0], w[2]) for w in words if w[0] < b[0] and w[2] > a[1]]
        free = [
            x
            for x in (a[1], (a[1] + b[0]) / 2, b[0], *(e for _, e in cut), *(s0 for s0, _ in cut))
            if a[1] <= x <= b[0]
        ]
        free = [x for x in free if not any(s0 < x < e for s0, e in cut)]
        xs.append(min(free, key=lambda x: abs(x - (a[1] + b[0]) / 2)) if free else (a[1] + b[0]) / 2)
    xs.append(max(merged[-1][1], max(w[2] for w in words)) + 2)
    # Rows are cut between the lines that hold numbers (and the header line above them): a label centred in a
    # cell merged over several rows stands between two lines and must not make a row of its own.
    lines = [r for r in block if r in data or r is block[0]]
    tops = [min(w[1] for w in r) for r in lines]
    bottoms = [max(w[3] for w in r) for r in lines]
    ys = [min(w[1] for w in words) - 2]
    ys += [(b + t) / 2 for b, t in zip(bottoms, tops[1:], strict=False)]
    ys.append(max(w[3] for w in words) + 2)
    # Prose that wraps around numbers ("指标分值 2 分，评价得分 2 分。" line after line) can line its numbers up
    # by chance; its column boundaries then cut through pieces of sentences, which a table's cells never are.
    inner = xs[1:-1]
    if any(_CLAUSE.search(w[4]) and any(w[0] < x < w[2] for x in inner) for w in words):
        return None
    bbox = (xs[0], ys[0], xs[-1], ys[-1])
    if any(_overlap(bbox, b) for b in ruled):
        return None
    return _explicit_table(page, xs, ys)


# find_tables merges explicit lines closer than its snap tolerance (3 points) into one.
_SNAP = 3.0


def _explicit_table(page, xs: list[float], ys: list[float]) -> _Table | None:  # type: ignore[no-untyped-def]
    """The table find_tables makes from explicit column and row boundaries: every grid rectangle is a cell.

    Built directly when the boundaries are sorted, apart and on the page, as find_tables then returns exactly
    that grid (and would read the page's text and drawings again to do it); otherwise find_tables decides."""
    rect = page.rect
    apart = all(b - a > _SNAP for a, b in pairwise(xs)) and all(b - a > _SNAP for a, b in pairwise(ys))
    if apart and rect.x0 <= xs[0] and xs[-1] <= rect.x1 and rect.y0 <= ys[0] and ys[-1] <= rect.y1:
        cells = [[(x0, y0, x1, y1) for x0, x1 in pairwise(xs)] for y0, y1 in pairwise(ys)]
        return _Table((xs[0], ys[0], xs[-1], ys[-1]), cells)  # type: ignore[arg-type]
    try:
        found = page.find_tables(
            vertical_strategy="explicit",
            vertical_lines=xs,
            horizontal_strategy="explicit",
            horizontal_lines=ys,
            use_layout=False,
        )
    except Exception:
        return None
    if found is None or not found.tables:
        return None
    tab = found.tables[0]
    cells = [[tuple(c) if c is not None else None for c in row.cells] for row in tab.rows]
    return _Table(tuple(tab.bbox), cells)  # type: ignore[arg-type]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _layout_page(chars: list[_Char], tables: list[_Table], *, ocr: bool = False) -> _Page:
    """Paragraphs and tables of a page in reading order (top to bottom)."""
    table_chars: list[list[_Char]] = [[] for _ in tables]
    free: list[_Char] = []
    if len(tables) == 1:
        (x0, y0, x1, y1), into = tables[0].bbox, table_chars[0]
        for ch in chars:
            if x0 <= ch.cx <= x1 and y0 <= ch.cy <= y1:
                into.append(ch)
            else:
                free.append(ch)
    elif tables:
        boxes = [(t.bbox, table_chars[i]) for i, t in enumerate(tables)]
        top, bottom = min(t.bbox[1] for t in tables), max(t.bbox[3] for t in tables)
        for ch in chars:
            cx, cy = ch.cx, ch.cy
            if cy < top or cy > bottom:
                free.append(ch)
                continue
            for (x0, y0, x1, y1), into in boxes:
                if x0 <= cx <= x1 and y0 <= cy <= y1:
                    into.append(ch)
                    break
            else:
                free.append(ch)
    else:
        free = chars
    items: list[tuple[float, float, tuple[str, object], list[_Line] | None]] = []
    for tab, tchars in zip(tables, table_chars, strict=True):
        items.append((tab.bbox[1], tab.bbox[0], ("t", _table_rows(tab, tchars)), None))
    lines = _stream_lines(free) if ocr else _visual_lines(free)
    right = max([ln.x1 for ln in lines] + [t.bbox[2] for t in tables], default=0.0)
    left = min([ln.x0 for ln in lines] + [t.bbox[0] for t in tables], default=0.0)
    for para in _paragraphs(lines, left, right):
        items.append((para[0].y0, para[0].x0, ("p", join_lines(ln.text for ln in para)), para))
    if not ocr:  # OCR paragraphs already come in Tesseract's reading order
        items.sort(key=lambda it: (round(it[0], 0), it[1]))
    text, placed = _place([it[2] for it in items])
    page = _Page(text=text, tables=placed, left=left, right=right)
    if items and items[0][3]:
        page.head = items[0][3][0]
    if items and items[-1][3]:
        page.tail = items[-1][3][-1]
    return page


def _table_rows(tab: _Table, chars: list[_Char]) -> Rows:
    """Rebuild every cell's text from the characters inside its box (not `table.extract()`,
    which can mis-order a number's characters when the digits and the point use different fonts)."""
    boxes = [(r, c, box) for r, row in enumerate(tab.cells) for c, box in enumerate(row) if box is not None]
    locator = _cell_locator(boxes)
    locate, memo = locator if locator is not None else (None, [0.0, 0.0, 0.0, 0.0, None])
    per_cell: dict[tuple[int, int], list[_Char]] = {}
    key, bucket = None, []
    mx0, mx1, my0, my1, mbest = memo
    for ch in chars:
        x, y = ch.cx, ch.cy
        # Most chars fall in the elementary rectangle of the one before: no lookup for them.
        if mx0 < x < mx1 and my0 < y < my1:
            best = mbest
        elif locate is not None:
            best = locate(x, y)
            mx0, mx1, my0, my1, mbest = memo  # the rectangle the lookup placed the char in, if strictly inside
        else:
            best = None
        if best is None:
            best = _nearest_cell(boxes, x, y)
        if best is None:
            continue
        if best != key:
            key = best
            bucket = per_cell.setdefault(best, [])
        bucket.append(ch)

    # A position find_tables gives no box is covered by a merged cell.
    def text(r: int, c: int) -> str:
        mine = per_cell.get((r, c))
        if not mine:
            return ""
        # Chars come in page order, MuPDF line by line (their `line` never goes down): the first and last
        # being of one line means all are.
        if mine[0].line == mine[-1].line:
            # One MuPDF line makes one visual line: what _visual_lines and _cell_text would make of it, directly.
            ordered = sorted(mine, key=_X0)
            text = "".join(map(_C, ordered))
            if len(text) != len(ordered) or _REPEAT.search(text):
                text = "".join(map(_C, _dedupe(ordered)))
            return text.replace("\t", " ").strip()
        return _cell_text(ln.text for ln in _visual_lines(mine))

    return [
        [("", True) if box is None else (text(r, c), False) for c, box in enumerate(row)]
        for r, row in enumerate(tab.cells)
    ]


def _nearest_cell(boxes: list[tuple[int, int, tuple[float, ...]]], x: float, y: float) -> tuple[int, int] | None:
    """The first box holding the point, else the nearest one: a char the finder left out of every cell (a rule
    drawn through it, a cell cut short) goes to the nearest cell rather than being lost."""
    best = None
    best_distance = float("inf")
    for r, c, box in boxes:
        dx = max(box[0] - x, 0.0, x - box[2])
        dy = max(box[1] - y, 0.0, y - box[3])
        distance = dx * dx + dy * dy
        if distance < best_distance:
            best, best_distance = (r, c), distance
            if distance == 0.0:
                break
    return best


# Above this many elementary rectangles (boxes whose edges do not line up) the lookup table is not worth building.
_LOCATOR_LIMIT = 250_000


def _cell_locator(boxes: list[tuple[int, int, tuple[float, ...]]]):  # type: ignore[no-untyped-def]
    """A function giving the first box (in `boxes` order) that holds a point, or None when none does; with the
    list it keeps the last elementary rectangle it placed a point strictly inside, and that point's answer in.

    Cells come from a grid: the distinct box edges cut the table into elementary rectangles, each covered by
    a few boxes, so a point is placed by bisecting the edges instead of trying every box. None when the
    boxes do not make a grid worth indexing (then every char is placed by `_nearest_cell`)."""
    xb = sorted({v for _, _, b in boxes for v in (b[0], b[2])})
    yb = sorted({v for _, _, b in boxes for v in (b[1], b[3])})
    if any(b[0] >= b[2] or b[1] >= b[3] for _, _, b in boxes):
        return None  # a box without area covers no elementary rectangle
    area = 0
    spans = []
    for _, _, b in boxes:
        i0, i1 = bisect.bisect_left(xb, b[0]), bisect.bisect_left(xb, b[2])
        j0, j1 = bisect.bisect_left(yb, b[1]), bisect.bisect_left(yb, b[3])
        spans.append((i0, i1, j0, j1))
        area += (i1 - i0) * (j1 - j0)
        if area > _LOCATOR_LIMIT:
            return None
    # Elementary rectangle (row j, column i, as the number j * width + i) -> first box covering it.
    width = len(xb)
    first: dict[int, int] = {}
    for k, (i0, i1, j0, j1) in enumerate(spans):
        for j in range(j0, j1):
            for i in range(i0, i1):
                first.setdefault(j * width + i, k)

    last_x, last_y = len(xb) - 2, len(yb) - 2
    where = [b[:2] for b in boxes]

    # The last elementary rectangle a point fell strictly inside, and its answer: the next char of the cell
    # mostly falls there too.
    memo: list = [0.0, 0.0, 0.0, 0.0, None]

    def locate(x: float, y: float) -> tuple[int, int] | None:
        if memo[0] < x < memo[1] and memo[2] < y < memo[3]:
            return memo[4]
        i = bisect.bisect_right(xb, x) - 1
        j = bisect.bisect_right(yb, y) - 1
        if 0 <= i <= last_x and 0 <= j <= last_y and xb[i] < x < xb[i + 1] and yb[j] < y < yb[j + 1]:
            k = first.get(j * width + i)  # strictly inside one elementary rectangle: the common case
            memo[:] = xb[i], xb[i + 1], yb[j], yb[j + 1], None if k is None else where[k]
            return memo[4]
        # A point on an edge touches the rectangles on both sides: take the first box among all of them.
        cols = range(max(bisect.bisect_left(xb, x) - 1, 0), min(bisect.bisect_right(xb, x), len(xb) - 1))
        rows = range(max(bisect.bisect_left(yb, y) - 1, 0), min(bisect.bisect_right(yb, y), len(yb) - 1))
        best = None
        for j in rows:
            if not yb[j] <= y <= yb[j + 1]:
                continue
            for i in cols:
                if xb[i] <= x <= xb[i + 1]:
                    k = first.get(j * width + i)
                    if k is not None and (best is None or k < best):
                        best = k
        return None if best is None else boxes[best][:2]

    return locate, memo


@dataclass
class _Line:
    chars: list[_Char]
    base: float
    size: float
    x0: float
    x1: float
    y0: float
    y1: float
    # Set once the chars are final (the line builders do): it is read several times, the chars never change.
    text: str = ""


# A _Char is a tuple: its fields by position are quicker to get than by name.
_C, _X0, _Y0, _X1, _Y1, _SIZE, _LINE = (
    itemgetter(_Char._fields.index(a)) for a in ("c", "x0", "y0", "x1", "y1", "size", "line")
)
_FIRST_TWO = itemgetter(0, 1)


def _visual_lines(chars: list[_Char]) -> list[_Line]:
    """Group characters into visual lines: overlapping vertically, close horizontally, left to right.

    MuPDF may cut one visual line into several lines (a font change, a digit run in another font,
    every word of an OCR page); grouping them again and sorting by x puts "138050.24" back
    together. A line is matched against its first fragment's extent, so it cannot grow into the
    next line down.
    """
    frags = _fragments(chars)
    if len(frags) == 1:  # one MuPDF line (most table cells): nothing to regroup
        frag = frags[0]
        fx0, fx1, fy0, fy1 = min(map(_X0, frag)), max(map(_X1, frag)), min(map(_Y0, frag)), max(map(_Y1, frag))
        if not "".join(map(_C, frag)).strip():
            return []
        ln = _Line(_dedupe(sorted(frag, key=_X0)), frag[0].base, 0.0, fx0, fx1, fy0, fy1)  # size: set below
        ln.text = "".join(map(_C, ln.chars))
        sizes = list(map(_SIZE, ln.chars))
        ln.size = sizes[0] if min(sizes) == max(sizes) else _median([c.size for c in ln.chars if not c.c.isspace()])
        return [ln]
    spans = []
    for frag in frags:
        spans.append((min(map(_Y0, frag)), min(map(_X0, frag)), frag))
    spans.sort(key=_FIRST_TWO)
    lines: list[_Line] = []
    anchors: list[tuple[float, float]] = []  # y extent of each line's first fragment
    for fy0, fx0, frag in spans:
        fy1 = max(map(_Y1, frag))
        fx1 = max(map(_X1, frag))
        size = _median(list(map(_SIZE, frag)))
        target = None
        for i in range(len(lines) - 1, max(-1, len(lines) - 9), -1):
            ln, (ay0, ay1) = lines[i], anchors[i]
            overlap = min(ay1, fy1) - max(ay0, fy0)
            near = (fx0 - ln.x1) < 4 * size and (ln.x0 - fx1) < 4 * size
            if near and overlap >= 0.5 * min(ay1 - ay0, fy1 - fy0):
                target = ln
                break
        if target is None:
            lines.append(_Line(list(frag), frag[0].base, size, fx0, fx1, fy0, fy1))
            anchors.append((fy0, fy1))
        else:
            target.chars.extend(frag)
            target.x0, target.x1 = min(target.x0, fx0), max(target.x1, fx1)
            target.y0, target.y1 = min(target.y0, fy0), max(target.y1, fy1)
    for ln in lines:
        ln.chars = _dedupe(sorted(ln.chars, key=_X0))
        ln.text = "".join(map(_C, ln.chars))
        sizes = list(map(_SIZE, ln.chars))
        if min(sizes) == max(sizes):
            # One size (the rule): the median of the non-blank ones, or a line of blanks that is dropped below.
            ln.size = sizes[0]
        else:
            ln.size = _median([c.size for c in ln.chars if not c.c.isspace()] or [ln.size])
    lines.sort(key=lambda ln: (ln.y0, ln.x0))
    return [ln for ln in lines if ln.text.strip()]


def _stream_lines(chars: list[_Char]) -> list[_Line]:
    """Visual lines of an OCR page, keeping Tesseract's reading order.

    Tesseract's word boxes on Chinese text are too rough to sort by (a word that starts a line
    can be boxed at the end of the line above), but its word order is right: consecutive
    fragments on about the same baseline are one line, in the order given.
    """
    lines: list[_Line] = []
    for frag in _fragments(chars):
        fy0 = min(c.y0 for c in frag)
        fy1 = max(c.y1 for c in frag)
        size = _median([c.size for c in frag])
        last = lines[-1] if lines else None
        if last is not None and abs(frag[0].base - last.chars[-1].base) <= 0.5 * min(size, last.size):
            last.chars.extend(frag)
            last.x0, last.x1 = min(last.x0, min(c.x0 for c in frag)), max(last.x1, max(c.x1 for c in frag))
            last.y0, last.y1 = min(last.y0, fy0), max(last.y1, fy1)
        else:
            lines.append(
                _Line(list(frag), frag[0].base, size, min(c.x0 for c in frag), max(c.x1 for c in frag), fy0, fy1)
            )
    for ln in lines:
        ln.text = "".join(map(_C, ln.chars))
    return [ln for ln in lines if ln.text.strip()]


def _fragments(chars: list[_Char]) -> list[list[_Char]]:
    """Characters grouped by the MuPDF line they came from, in the order given."""
    # Chars come in page order, where each line's are one run: cut the runs, unless a line comes back.
    runs = [list(run) for _, run in groupby(chars, key=_LINE)]
    if len({run[0].line for run in runs}) == len(runs):
        return runs
    by_line: dict[int, list[_Char]] = {}
    for ch in chars:
        by_line.setdefault(ch.line, []).append(ch)
    return list(by_line.values())


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 10.0


# A non-blank character twice in a row: the only place `_dedupe` can drop anything.
_REPEAT = re.compile(r"(\S)\1")


def _dedupe(chars: list[_Char]) -> list[_Char]:
    """Drop a character drawn twice at almost the same place (fake bold in Word-made PDFs)."""
    text = "".join(map(_C, chars))
    if len(text) == len(chars) and not _REPEAT.search(text):
        return chars
    out: list[_Char] = []
    for ch in chars:
        if out:
            prev = out[-1]
            width = max(prev.x1 - prev.x0, 0.1)
            if (
                ch.c == prev.c
                and not ch.c.isspace()
                and abs(ch.x0 - prev.x0) < 0.3 * width
                and abs(ch.base - prev.base) < 0.3 * ch.size
            ):
                continue
        out.append(ch)
    return out


def _paragraphs(lines: list[_Line], left: float, right: float) -> list[list[_Line]]:
    """Group visual lines into paragraphs: a line continues the previous one when that line was
    wrapped (the next line's first word would not have fitted after it), the gap is a normal line
    gap, the size matches and the next line is not indented."""
    paras: list[list[_Line]] = []
    for ln in lines:
        if paras and _continues(paras[-1][-1], ln, left, right):
            paras[-1].append(ln)
        else:
            paras.append([ln])
    return paras


def _continues(prev: _Line, ln: _Line, left: float, right: float, *, across_pages: bool = False) -> bool:
    """Whether `ln` continues the paragraph whose last line so far is `prev`."""
    size = prev.size
    if abs(ln.size - size) > 0.2 * size:
        return False  # a heading above body text, or a footnote below it
    if not across_pages:
        gap = ln.y0 - prev.y1
        if gap < -0.5 * size or gap > 0.6 * size:
            return False  # same line (a side-by-side item) or a paragraph gap
    if ln.x0 > left + 0.8 * size:
        return False  # indented: a new paragraph starts
    # The right margin is only known as the widest line: ragged text can stop a char short of it.
    return prev.x1 + _first_word_width(ln) > right - 1.2 * size


def _first_word_width(ln: _Line) -> float:
    """Width of what the line breaker had to move down whole: one CJK char, or an ASCII word."""
    chars = ln.chars
    end = chars[0].x1
    if chars[0].c.isascii():
        for ch in chars:
            if ch.c.isspace() or not ch.c.isascii():
                break
            end = ch.x1
    return end - chars[0].x0


# --------------------------------------------------------------------------- page images for the review page


@dataclass(frozen=True)
class PageImage:
    """One PDF page drawn for a reviewer: the image (PNG or JPEG), its size in pixels, and per quote asked for the
    boxes (fractions of the page's width and height) where PyMuPDF finds that quote on the page."""

    page: int
    image: bytes
    mime: str
    width: int
    height: int
    boxes: dict[str, list[tuple[float, float, float, float]]]


_NUMBER_IN_QUOTE = re.compile(r"\d[\d,，.]*[%％]?")


# A typed page in grey is smaller and twice as quick to encode as PNG; a scanned one is far smaller as JPEG.
_PNG_AT_MOST = 150 << 10


def page_images(path: Path, quotes: dict[int, list[str]], width: int = 700, quality: int = 50) -> list[PageImage]:
    """The pages of a PDF that hold the given quotes (page → quote texts), drawn in grey about `width` pixels
    wide; a page that cannot be drawn is left out. Only these pages are opened, so a long report costs no more
    than its evidence."""
    fitz = _pymupdf()
    images: list[PageImage] = []
    try:
        pdf = fitz.open(path)
    except Exception:
        return images
    with pdf:
        for number in sorted(quotes):
            if not 1 <= number <= pdf.page_count:
                continue
            try:
                page = pdf[number - 1]
                rect = page.rect
                zoom = width / max(rect.width, 1.0)
                pix = page.get_pixmap(matrix=fitz.Matrix(zoom, zoom), colorspace=fitz.csGRAY, alpha=False)
                image, mime = pix.tobytes("png"), "image/png"
                if len(image) > _PNG_AT_MOST:
                    jpeg = pix.tobytes("jpeg", jpg_quality=quality)
                    if len(jpeg) < len(image):
                        image, mime = jpeg, "image/jpeg"
                boxes = {q: _boxes(page, q) for q in dict.fromkeys(quotes[number])}
            except Exception:
                continue
            images.append(PageImage(number, image, mime, pix.width, pix.height, boxes))
    return images


def _boxes(page, quote: str) -> list[tuple[float, float, float, float]]:  # type: ignore[no-untyped-def]
    """Where a quote stands on a page: the whole quote when PyMuPDF finds it, else its lines, else its numbers
    (the extracted text joins wrapped lines and drops spaces the page may still have between them)."""
    rect = page.rect
    w, h = max(rect.width, 1.0), max(rect.height, 1.0)
    for pieces, shortest in (([quote], 2), (quote.split(), 2), (_NUMBER_IN_QUOTE.findall(quote), 1)):
        found = []
        for piece in pieces:
            if len(piece) >= shortest:
                # Found in the unrotated page's space; the image shows the page as rotated.
                found.extend(r * page.rotation_matrix for r in page.search_for(piece))
        if found:
            return [
                (round(r.x0 / w, 4), round(r.y0 / h, 4), round(r.x1 / w, 4), round(r.y1 / h, 4)) for r in found[:50]
            ]
    return []
