"""Make the committed test fixtures: PDF/DOCX versions of seed reports and bad-input files.

Run by hand from the repo root and commit the outputs:

    python scripts/make_fixtures.py            # both sets
    python scripts/make_fixtures.py converted  # fixtures/converted/ only
    python scripts/make_fixtures.py bad        # fixtures/bad/ only

A seed line containing a tab is a table row; consecutive such lines form one table, rendered
as a real ruled table (PDF: HTML table laid out by pymupdf.Story; DOCX: a w:tbl with the
"Table Grid" style). A leading tab is kept as an empty first cell so the grid stays as in the
seed, and short rows are padded with empty cells to the width of the widest row.
"""

from __future__ import annotations

import datetime
import html
import io
import random
import sys
import zipfile
from pathlib import Path

import docx
import pymupdf
from docx.oxml.ns import qn
from docx.shared import Pt

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fixtures" / "seeds"
CONVERTED = ROOT / "fixtures" / "converted"
BAD = ROOT / "fixtures" / "bad"
CONVERT_SEEDS = ("000", "003", "004")
FIXED_TIME = datetime.datetime(2024, 1, 1, 0, 0, 0)

CSS = """
body { font-size: 10.5pt; }
p { margin: 0 0 2pt 0; text-indent: 2em; }
p.gap { margin: 0 0 6pt 0; text-indent: 0; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 4pt 0; }
td { border: 0.6pt solid black; padding: 2pt; vertical-align: top; font-size: 9pt; }
"""


def seed_blocks(text: str) -> list[tuple[str, object]]:
    """Split a seed into ("p", line) paragraphs and ("t", rows) tables; blank lines separate."""
    blocks: list[tuple[str, object]] = []
    rows: list[list[str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        if rows:
            blocks.append(("t", pad(rows)))
            rows = []
        if line.strip():
            blocks.append(("p", line))
    if rows:
        blocks.append(("t", pad(rows)))
    return blocks


def pad(rows: list[list[str]]) -> list[list[str]]:
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows]


# --------------------------------------------------------------------------- PDF


def seed_html(blocks: list[tuple[str, object]]) -> str:
    parts: list[str] = []
    previous = ""
    for kind, content in blocks:
        if kind == "p":
            parts.append(f"<p>{html.escape(str(content).strip())}</p>")
        else:
            if previous == "t":
                # Two tables that touch would be read as one grid: keep a gap between them.
                parts.append('<p class="gap">&#160;</p>')
            body = "".join(
                "<tr>" + "".join(f"<td>{cell_html(cell)}</td>" for cell in row) + "</tr>"
                for row in content  # type: ignore[attr-defined]
            )
            parts.append(f"<table>{body}</table>")
        previous = kind
    return "<html><body>" + "".join(parts) + "</body></html>"


def cell_html(cell: str) -> str:
    # MuPDF gives a column with no text zero width, and find_tables then snaps its two rules
    # into one and loses the column: a few no-break spaces keep every column open.
    return html.escape(cell.strip()) or "&#160;" * 4


def write_pdf(blocks: list[tuple[str, object]], out: Path) -> None:
    story = pymupdf.Story(html=seed_html(blocks), user_css=CSS)
    mediabox = pymupdf.paper_rect("a4")
    where = pymupdf.Rect(mediabox.x0 + 56, mediabox.y0 + 56, mediabox.x1 - 56, mediabox.y1 - 56)
    writer = pymupdf.DocumentWriter(str(out))
    more = True
    while more:
        device = writer.begin_page(mediabox)
        more, _ = story.place(where)
        story.draw(device)
        writer.end_page()
    writer.close()
    close_split_tables(out)
    # Story output is uncompressed; rewrite it compact and deterministic for the commit.
    pdf = pymupdf.open(out)
    pdf.subset_fonts()  # the CJK fallback font is embedded whole (~1.7 MB) otherwise
    pdf.set_metadata({"title": out.stem, "creationDate": "", "modDate": "", "producer": "", "creator": ""})
    data = pdf.tobytes(garbage=4, deflate=True, no_new_id=True)
    pdf.close()
    out.write_bytes(data)


def close_split_tables(path: Path) -> None:
    """Draw the rule MuPDF's HTML layout omits where a table is cut by a page break.

    With collapsed borders the rows continued on the next page have no top line (and the part
    left behind may lack its bottom line), so the fragment is not a closed grid and
    find_tables misses it. Real PDFs (Word, WPS) rule both edges; do the same here.
    """
    pdf = pymupdf.open(path)
    for page in pdf:
        verticals, horizontals = [], []
        for drawing in page.get_drawings():
            r = drawing["rect"]
            if r.width < 1.5 and r.height > 3:
                verticals.append(r)
            elif r.height < 1.5 and r.width > 3:
                horizontals.append(r)
        ends: dict[float, list[pymupdf.Rect]] = {}
        for v in verticals:
            ends.setdefault(round(v.y0, 1), []).append(v)
            ends.setdefault(round(v.y1, 1), []).append(v)
        for y, group in ends.items():
            x0 = min(v.x0 for v in group)
            x1 = max(v.x1 for v in group)
            covered = any(abs((h.y0 + h.y1) / 2 - y) < 1.5 and h.x0 <= x0 + 1 and h.x1 >= x1 - 1 for h in horizontals)
            if not covered and len(group) > 1:
                page.draw_line((x0, y), (x1, y), color=(0, 0, 0), width=0.6)
    pdf.save(path.with_suffix(".tmp"), no_new_id=True)
    pdf.close()
    path.with_suffix(".tmp").replace(path)


# --------------------------------------------------------------------------- DOCX


def write_docx(blocks: list[tuple[str, object]], out: Path) -> None:
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.font.name = "SimSun"
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    previous = ""
    for kind, content in blocks:
        if kind == "p":
            document.add_paragraph(str(content))
        else:
            if previous == "t":
                document.add_paragraph("")  # adjacent w:tbl elements would merge when Word opens it
            rows = content  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))  # type: ignore[arg-type]
            table.style = "Table Grid"
            for r, row in enumerate(rows):  # type: ignore[arg-type]
                cells = table.rows[r].cells
                for c, cell in enumerate(row):
                    cells[c].text = cell.strip()
        previous = kind
    core = document.core_properties
    core.author = core.last_modified_by = ""
    core.title = out.stem
    core.created = core.modified = FIXED_TIME
    buffer = io.BytesIO()
    document.save(buffer)
    out.write_bytes(stable_zip(buffer.getvalue()))


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed member timestamps so a rerun gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def make_converted() -> list[Path]:
    """Write fixtures/converted/<seed stem>.pdf and .docx for the seeds in CONVERT_SEEDS."""
    CONVERTED.mkdir(parents=True, exist_ok=True)
    written = []
    for seed in sorted(SEEDS.glob("*.txt")):
        if not seed.name.startswith(CONVERT_SEEDS):
            continue
        blocks = seed_blocks(seed.read_text(encoding="utf-8"))
        for suffix, writer in ((".pdf", write_pdf), (".docx", write_docx)):
            out = CONVERTED / (seed.stem + suffix)
            writer(blocks, out)
            written.append(out)
    return written


# --------------------------------------------------------------------------- bad input

ZERO_PAGE_PDF_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [] /Count 0 >>",
]


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty (MuPDF refuses to save one, so write it by hand)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(ZERO_PAGE_PDF_OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    return bytes(out)


def scanned_pdf(source: Path) -> bytes:
    """Page 1 of a real PDF rendered to a grayscale image and placed alone on a new page."""
    src = pymupdf.open(source)
    page = src[0]
    pix = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
    out = pymupdf.open()
    new = out.new_page(width=page.rect.width, height=page.rect.height)
    new.insert_image(new.rect, stream=pix.tobytes("png"))
    data = out.tobytes(garbage=4, deflate=True, no_new_id=True)
    out.close()
    src.close()
    return data


def encrypted_pdf(source: Path) -> bytes:
    """The same PDF behind a user password (AES-256 draws a random IV: the bytes differ per run)."""
    pdf = pymupdf.open(source)
    data = pdf.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner-secret")
    pdf.close()
    return data


GB_TEXT = "广元市医疗保障局\n2023年度城乡居民医保财政补助资金绩效自评报告\n预算执行率为100.00%，自评得分91.54分。\n"
BOM_TEXT = "金凤区医疗保障局\r\n实际到位资金125万元，资金到位率100%。\r\n"


def make_bad() -> list[Path]:
    """Write fixtures/bad/: files that must fail with a clear reason, and two that must load."""
    BAD.mkdir(parents=True, exist_ok=True)
    real_pdf = CONVERTED / "000_76de77d70b614fce.pdf"
    real_docx = CONVERTED / "000_76de77d70b614fce.docx"
    if not real_pdf.exists() or not real_docx.exists():
        make_converted()
    pdf_bytes = real_pdf.read_bytes()
    docx_bytes = real_docx.read_bytes()
    rng = random.Random(20241111)  # fixed seed: the committed bytes must not change on a rerun
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "blank.txt": b" \n\t\n  \n",
        "empty.pdf": b"",
        "corrupt.pdf": bytes(rng.randrange(256) for _ in range(4096)),
        "garbled.pdf": b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4096)) + b"\n%%EOF\n",
        "truncated.pdf": pdf_bytes[: len(pdf_bytes) // 2],
        "encrypted.pdf": encrypted_pdf(real_pdf),
        "zero_pages.pdf": zero_page_pdf(),
        "scanned.pdf": scanned_pdf(real_pdf),
        "docx_named.pdf": docx_bytes,
        "text_named.docx": "这不是 Word 文件，只是改了后缀的文本。\n".encode(),
        "truncated.docx": docx_bytes[: len(docx_bytes) // 2],
        "pdf_named.docx": pdf_bytes,
        "legacy_doc.docx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(2040)),
        "binary.txt": b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(512)),
        "gb18030.txt": GB_TEXT.encode("gb18030"),
        "utf8_bom.txt": b"\xef\xbb\xbf" + BOM_TEXT.encode("utf-8"),
        "utf16.txt": GB_TEXT.encode("utf-16"),
        "unknown.xlsx": b"PK\x03\x04 not really a spreadsheet" + bytes(rng.randrange(256) for _ in range(200)),
    }
    written = []
    for name, data in files.items():
        out = BAD / name
        out.write_bytes(data)
        written.append(out)
    return written


def main(argv: list[str]) -> int:
    what = set(argv) or {"converted", "bad"}
    unknown = what - {"converted", "bad"}
    if unknown:
        sys.stderr.write(f"unknown target(s): {', '.join(sorted(unknown))}; use converted and/or bad\n")
        return 2
    written: list[Path] = []
    if "converted" in what:
        written += make_converted()
    if "bad" in what:
        written += make_bad()
    for path in written:
        sys.stdout.write(f"{path.relative_to(ROOT)}  {path.stat().st_size} bytes\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
