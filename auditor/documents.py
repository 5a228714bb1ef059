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
import functools
import io
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

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

    def page_of(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)


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

    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError(R_ENCODING)
    return str(best).lstrip("\ufeff"), best.encoding


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


def _assemble(blocks: list[tuple[str, object]], source: str) -> tuple[str, list[Grid]]:
    """Blocks are ("p", text) or ("t", rows); the text has a table as tab-joined lines with a blank line before
    and after it, and each table also comes back as a Grid whose cells point at their text."""
    lines: list[str] = []
    tables: list[tuple[int, Rows]] = []  # index of a table's first line, its rows
    for kind, content in blocks:
        if kind == "t":
            if lines and lines[-1] != "":
                lines.append("")
            rows: Rows = content  # type: ignore[assignment]
            tables.append((len(lines), rows))
            lines.extend("\t".join(text for text, _ in row) for row in rows)
            lines.append("")
        else:
            lines.append(str(content))
    raw = "\n".join(lines)
    # Empty paragraphs next to a table would stack blank lines; one blank line is the contract. The text is
    # trimmed and blank runs squeezed by dropping characters, so each kept one has a known new offset.
    keep = [True] * len(raw)
    lead = len(raw) - len(raw.lstrip("\n"))
    tail = len(raw) - len(raw.rstrip("\n"))
    for i in range(lead):
        keep[i] = False
    for i in range(len(raw) - tail, len(raw)):
        keep[i] = False
    for m in re.finditer(r"\n{3,}", raw):
        for i in range(m.start() + 2, m.end()):
            keep[i] = False
    new_at: list[int] = []
    n = 0
    for k in keep:
        new_at.append(n)
        n += k
    text = "".join(c for c, k in zip(raw, keep, strict=True) if k)
    line_starts = [0]
    for line in lines[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)
    grids: list[Grid] = []
    for first, rows in tables:
        cells: list[list[Cell]] = []
        for r, row in enumerate(rows):
            pos = line_starts[first + r]
            out: list[Cell] = []
            for cell_text, merged in row:
                a = new_at[pos] if pos < len(new_at) else n
                out.append(Cell(cell_text, a, a + len(cell_text), merged) if cell_text else Cell(merged=merged))
                pos += len(cell_text) + 1
            cells.append(out)
        if cells:
            start = new_at[line_starts[first]] if line_starts[first] < len(new_at) else n
            last = first + len(rows) - 1
            end = new_at[line_starts[last]] + len(lines[last]) if line_starts[last] < len(new_at) else n
            grids.append(Grid(cells, start, end, source))
    return text, grids


# --------------------------------------------------------------------------- docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _load_docx(path: Path, data: bytes) -> Document:
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise LoadError(R_DOC_LEGACY)
    if not data.startswith(b"PK"):
        what = _sniff(data)
        raise LoadError(f"文件内容是 {what}，不是 docx（后缀与内容不符）" if what else R_DOCX_BAD)
    try:
        import docx

        body = docx.Document(io.BytesIO(data)).element.body
        blocks = list(_docx_blocks(body))
    except Exception:
        # zipfile.BadZipFile (cut short), KeyError (no word/document.xml), ValueError (another
        # Office type), lxml's XMLSyntaxError (a damaged part), EOFError...: all one reason.
        raise LoadError(R_DOCX_BAD) from None
    text, grids = _assemble(blocks, "docx")
    return Document(path=path, text=text, page_starts=None, kind="docx", tables=tuple(grids))


def _docx_blocks(parent) -> Iterator[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """Paragraphs and tables of the body in document order; content controls are looked into."""
    for child in parent.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield "p", _docx_para_text(child)
        elif tag == _W + "tbl":
            yield "t", _docx_table_rows(child)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_blocks(content)
        elif tag == _W + "customXml":
            yield from _docx_blocks(child)


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


def _docx_table_rows(tbl) -> Rows:  # type: ignore[no-untyped-def]
    """One list of cell texts per w:tr, one entry per grid column.

    A cell spanning columns (gridSpan) gives "" in the columns it covers; a cell continuing a
    vertical merge (vMerge without "restart") gives "". python-docx would hand back the same
    merged `_tc` again at those positions; reading the XML gives the same answer directly and
    survives malformed merges (a "continue" in the first row).
    """
    grid = tbl.find(_W + "tblGrid")
    ncols = len(grid.findall(_W + "gridCol")) if grid is not None else 0
    rows: Rows = []
    for tr in tbl.iter(_W + "tr"):
        if tr.getparent() is not tbl:
            continue  # a row of a nested table: its text is part of the outer cell
        row: list[tuple[str, bool]] = [("", False)] * _grid_value(tr, "gridBefore")
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
            text = "" if merged_down else _cell_text(_docx_para_text(p) for p in _docx_cell_paragraphs(tc))
            row.append((text, merged_down))
            row.extend([("", True)] * (span - 1))
        row.extend([("", False)] * max(0, ncols - len(row)))
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
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


def _load_pdf(path: Path, data: bytes) -> Document:
    import pymupdf

    if b"%PDF-" not in data[:1024]:
        what = _sniff(data)
        raise LoadError(f"文件内容是 {what}，不是 PDF（后缀与内容不符）" if what else R_NOT_PDF)
    try:
        pdf = pymupdf.open(stream=data, filetype="pdf")
    except Exception:  # FileDataError and MuPDF's own errors: the bytes do not parse as PDF
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
        grids.extend(_shifted(g, length) for g in page.grids)
        length += len(page.text)
        previous = page
    return "".join(parts), tuple(starts), grids


def _shifted(grid: Grid, by: int) -> Grid:
    rows = [[Cell(c.text, c.start + by, c.end + by, c.merged) if c.start >= 0 else c for c in r] for r in grid.rows]
    return Grid(rows, grid.start + by, grid.end + by, grid.source, grid.uncertain, list(grid.notes))


def _page_list(numbers: list[int]) -> str:
    return "、".join(str(n) for n in numbers)


@functools.lru_cache(maxsize=1)
def ocr_available() -> bool:
    """True when Tesseract and its chi_sim language data are installed (PyMuPDF can OCR then)."""
    if shutil.which("tesseract") is None:
        return False
    import pymupdf

    try:
        tessdata = pymupdf.get_tessdata()
    except Exception:
        return False
    return bool(tessdata) and (Path(tessdata) / f"{OCR_LANGUAGE}.traineddata").is_file()


@dataclass
class _Page:
    """One page's text plus what is needed to join a paragraph running on to the next page."""

    text: str = ""
    grids: list[Grid] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    needs_ocr: bool = False
    head: _Line | None = None  # first line, if the page starts with a paragraph
    tail: _Line | None = None  # last line, if the page ends with a paragraph
    left: float = 0.0
    right: float = 0.0


def _pdf_page(page, number: int) -> _Page:  # type: ignore[no-untyped-def]
    """Text of one page with its notes; `needs_ocr` when it has no text layer and no OCR is available."""
    import pymupdf

    notes: list[str] = []
    textpage = page.get_textpage(flags=pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_IMAGES)
    chars = list(_raw_chars(page.get_text("rawdict", textpage=textpage)))
    if not any(not c.c.isspace() for c in chars):
        if not page.get_image_info() and not page.get_drawings():
            return _Page()  # a blank page
        if not ocr_available():
            return _Page(needs_ocr=True)
        try:
            textpage = page.get_textpage_ocr(language=OCR_LANGUAGE, dpi=OCR_DPI, full=True)
        except Exception:
            raise LoadError(f"PDF 第{number}页 OCR 识别失败") from None
        chars = list(_raw_chars(page.get_text("rawdict", textpage=textpage), ocr=True))
        notes.append(f"第{number}页经OCR识别")
        tables: list[_Table] = []
        ocr = True
    else:
        tables = _find_tables(page, number, notes)
        ocr = False
    bad = sum(1 for c in chars if c.c == "\ufffd")
    if bad and bad > 0.3 * sum(1 for c in chars if not c.c.isspace()):
        notes.append(f"第{number}页文字编码缺失，提取的文字可能是乱码")
    result = _layout_page(chars, tables, ocr=ocr)
    result.notes = notes
    return result


@dataclass
class _Char:
    c: str
    x0: float
    y0: float
    x1: float
    y1: float
    base: float  # baseline y (origin)
    size: float
    line: int  # index of the MuPDF line this char came from

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def _raw_chars(raw: dict, *, ocr: bool = False) -> Iterator[_Char]:
    """Characters of a rawdict, tagged with their MuPDF line; diagonal text is left out.

    OCR spans carry a font size guessed per word that swings by a factor of four; there the
    glyph box height is the better measure of the text size."""
    line_no = 0
    for block in raw.get("blocks", ()):
        if block.get("type", 0) != 0:
            continue
        for line in block.get("lines", ()):
            line_no += 1
            dx, dy = line.get("dir", (1.0, 0.0))
            if abs(dx) > 0.1 and abs(dy) > 0.1:
                continue  # slanted text is a watermark ("仅供内部使用"), not report content
            for span in line.get("spans", ()):
                size = float(span.get("size") or 10.0)
                for ch in span.get("chars", ()):
                    x0, y0, x1, y1 = ch["bbox"]
                    char_size = (y1 - y0) if ocr and y1 > y0 else size
                    yield _Char(ch["c"], x0, y0, x1, y1, ch["origin"][1], char_size, line_no)


@dataclass
class _Table:
    bbox: tuple[float, float, float, float]
    cells: list[list[tuple[float, float, float, float] | None]]  # per row, per column


def _find_tables(page, number: int, notes: list[str]) -> list[_Table]:  # type: ignore[no-untyped-def]
    # PyMuPDF prints an advert for its layout package to stdout on the first call; a library
    # must not write to stdout, so switch that off unless the user chose otherwise.
    os.environ.setdefault("PYMUPDF_SUGGEST_LAYOUT_ANALYZER", "0")
    try:
        try:
            # The layout-gated default (PyMuPDF 2.0) drops ruled tables it does not recognise,
            # e.g. the second of two tables on a page; the plain line finder keeps them.
            found = page.find_tables(use_layout=False)
        except TypeError:  # PyMuPDF before the use_layout option
            found = page.find_tables()
    except Exception:
        found = None
    if found is None:  # find_tables swallows its own errors and returns None
        notes.append(f"第{number}页表格识别失败，按正文读取")
        return []
    tables = []
    for tab in found.tables:
        # A one-column "table" is a frame drawn around text, not a grid. One-row tables are kept:
        # that is what the rest of a table continued from the previous page looks like.
        if tab.col_count < 2:
            continue
        cells = [[tuple(c) if c is not None else None for c in row.cells] for row in tab.rows]
        tables.append(_Table(tuple(tab.bbox), cells))  # type: ignore[arg-type]
    tables.extend(_unruled_tables(page, [t.bbox for t in tables]))
    return tables


_NUMERIC_CELL = re.compile(r"\s*[-−]?\d[\d,]*(?:\.\d+)?\s*%?\s*")


def _unruled_tables(page, ruled: list[tuple[float, float, float, float]]) -> list[_Table]:  # type: ignore[no-untyped-def]
    """Tables drawn without rules: lines of several words whose numbers line up in columns.

    PyMuPDF's text strategy joins a left-aligned label to the right-aligned number after it, so the column
    and row boundaries are taken from the gaps between the words and handed to find_tables as explicit lines.
    A block counts as a table with three lines or more, three columns or more, and numbers in a third of
    its words; ordinary paragraphs (one word per line in Chinese, or words without numbers) never qualify.
    """
    words = [w for w in page.get_text("words") if w[4].strip()]
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
    spans = sorted((w[0], w[2]) for r in data for w in r)
    merged: list[list[float]] = []
    for x0, x1 in spans:
        if merged and x0 <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    if len(merged) < 3:
        return None
    words = [w for r in block for w in r]
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
    bbox = (xs[0], ys[0], xs[-1], ys[-1])
    if any(_overlap(bbox, b) for b in ruled):
        return None
    try:
        found = page.find_tables(
            vertical_strategy="explicit", vertical_lines=xs, horizontal_strategy="explicit", horizontal_lines=ys
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


def _inside(ch: _Char, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= ch.cx <= box[2] and box[1] <= ch.cy <= box[3]


def _layout_page(chars: list[_Char], tables: list[_Table], *, ocr: bool = False) -> _Page:
    """Paragraphs and tables of a page in reading order (top to bottom)."""
    table_chars: list[list[_Char]] = [[] for _ in tables]
    free: list[_Char] = []
    for ch in chars:
        for i, tab in enumerate(tables):
            if _inside(ch, tab.bbox):
                table_chars[i].append(ch)
                break
        else:
            free.append(ch)
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
    text, grids = _assemble([it[2] for it in items], "pdf")
    page = _Page(text=text, grids=grids, left=left, right=right)
    if items and items[0][3]:
        page.head = items[0][3][0]
    if items and items[-1][3]:
        page.tail = items[-1][3][-1]
    return page


def _table_rows(tab: _Table, chars: list[_Char]) -> Rows:
    """Rebuild every cell's text from the characters inside its box (not `table.extract()`,
    which can mis-order a number's characters when the digits and the point use different fonts)."""
    boxes = [(r, c, box) for r, row in enumerate(tab.cells) for c, box in enumerate(row) if box is not None]
    per_cell: dict[tuple[int, int], list[_Char]] = {}
    for ch in chars:
        best = None
        best_distance = float("inf")
        for r, c, box in boxes:
            # Distance from the char's centre to the box: 0 inside. A char the finder left out of
            # every cell (a rule drawn through it, a cell cut short) goes to the nearest one
            # rather than being lost.
            dx = max(box[0] - ch.cx, 0.0, ch.cx - box[2])
            dy = max(box[1] - ch.cy, 0.0, ch.cy - box[3])
            distance = dx * dx + dy * dy
            if distance < best_distance:
                best, best_distance = (r, c), distance
                if distance == 0.0:
                    break
        if best is not None:
            per_cell.setdefault(best, []).append(ch)

    # A position find_tables gives no box is covered by a merged cell.
    def text(r: int, c: int) -> str:
        return _cell_text(ln.text for ln in _visual_lines(per_cell.get((r, c), [])))

    return [
        [("", True) if box is None else (text(r, c), False) for c, box in enumerate(row)]
        for r, row in enumerate(tab.cells)
    ]


@dataclass
class _Line:
    chars: list[_Char]
    base: float
    size: float
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def text(self) -> str:
        return "".join(c.c for c in self.chars)


def _visual_lines(chars: list[_Char]) -> list[_Line]:
    """Group characters into visual lines: overlapping vertically, close horizontally, left to right.

    MuPDF may cut one visual line into several lines (a font change, a digit run in another font,
    every word of an OCR page); grouping them again and sorting by x puts "138050.24" back
    together. A line is matched against its first fragment's extent, so it cannot grow into the
    next line down.
    """
    frags = sorted(_fragments(chars), key=lambda cs: (min(c.y0 for c in cs), min(c.x0 for c in cs)))
    lines: list[_Line] = []
    anchors: list[tuple[float, float]] = []  # y extent of each line's first fragment
    for frag in frags:
        fy0 = min(c.y0 for c in frag)
        fy1 = max(c.y1 for c in frag)
        fx0 = min(c.x0 for c in frag)
        fx1 = max(c.x1 for c in frag)
        size = _median([c.size for c in frag])
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
        ln.chars = _dedupe(sorted(ln.chars, key=lambda c: c.x0))
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
    return [ln for ln in lines if ln.text.strip()]


def _fragments(chars: list[_Char]) -> list[list[_Char]]:
    """Characters grouped by the MuPDF line they came from, in the order given."""
    by_line: dict[int, list[_Char]] = {}
    for ch in chars:
        by_line.setdefault(ch.line, []).append(ch)
    return list(by_line.values())


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 10.0


def _dedupe(chars: list[_Char]) -> list[_Char]:
    """Drop a character drawn twice at almost the same place (fake bold in Word-made PDFs)."""
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
