"""Generators of hostile inputs for the loader and the batch run: each writes one file at the given path, fast.

zip_bomb_docx: a .docx whose document.xml inflates to ~4 GB; gridspan_bomb_docx: a small .docx whose cells
claim to span ten million columns; dense_table_pdf: a page holding an n x n ruled table of numbers;
big_text / long_paragraph_text: report prose of a given size, in lines or as one paragraph.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    "</Relationships>"
)
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# Realistic report prose: amounts, rates, counts, scores; repeated to any size.
_PROSE = (
    "2023年度项目资金预算{a}万元，其中中央补助资金{b}万元，自治区配套资金{c}万元，实际到位资金{a}万元，"
    "全年执行{d}万元，执行率{r}%。项目共完成培训{n}人次，覆盖{m}个乡镇，服务对象满意度达到{s}%，"
    "绩效自评得分{g}分。"
)


def _prose(k: int) -> str:
    b = 100 + k % 900
    c = 50 + k % 450
    a = b + c
    d = a - k % 40
    return _PROSE.format(
        a=a, b=b, c=c, d=d, r=f"{100 * d / a:.2f}", n=1000 + k % 5000, m=3 + k % 20, s=90 + k % 10, g=85 + k % 15
    )


def _zip_local(name: bytes, crc: int, csize: int, usize: int) -> bytes:
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, csize, usize, len(name), 0) + name


def _zip_central(name: bytes, crc: int, csize: int, usize: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, csize, usize, len(name), 0, 0, 0, 0, 0, offset
        )
        + name
    )


def _crc32_repeat(crc_block: int, length: int, times: int, crc: int) -> int:
    """CRC-32 of `crc`'s data followed by `times` copies of a block (CRC `crc_block`, `length` bytes), in log time.

    zlib's crc32_combine, which Python does not expose: the CRC of a concatenation from the CRCs of its parts."""

    def times_matrix(mat: list[int], vec: int) -> int:
        out = 0
        i = 0
        while vec:
            if vec & 1:
                out ^= mat[i]
            vec >>= 1
            i += 1
        return out

    def square(mat: list[int]) -> list[int]:
        return [times_matrix(mat, m) for m in mat]

    def combine(crc1: int, crc2: int, len2: int) -> int:
        if len2 <= 0:
            return crc1
        # The operator that appends one zero bit, squared up to four bits; each step squares it again (one
        # byte, two, four...) and applies it where len2 has a 1 bit.
        op = square(square([0xEDB88320] + [1 << i for i in range(31)]))
        while len2:
            op = square(op)
            if len2 & 1:
                crc1 = times_matrix(op, crc1)
            len2 >>= 1
        return crc1 ^ crc2

    # Doubling: the CRC of 2^k copies from the CRC of 2^(k-1) copies.
    block_crc, block_len = crc_block, length
    while times:
        if times & 1:
            crc = combine(crc, block_crc, block_len)
        times >>= 1
        if times:
            block_crc = combine(block_crc, block_crc, block_len)
            block_len *= 2
    return crc


def zip_bomb_docx(path: Path, gigabytes: float = 3.9, declared: int | None = None) -> None:
    """A well-formed .docx (honest sizes and CRC) whose word/document.xml inflates to `gigabytes` GB of spaces.

    `declared` makes the zip lie: document.xml then claims that many bytes whatever it inflates to."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W_NS}"><w:body><w:p><w:r>'
        '<w:t xml:space="preserve">预算执行率100%'
    ).encode()
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    block = b" " * (1 << 20)
    times = int(gigabytes * (1 << 30)) // len(block)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    # A full flush makes each block's deflate output independent of what came before, so one compressed
    # block can be repeated to make a valid stream without compressing gigabytes.
    c_head = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    c_block = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    c_tail = comp.compress(tail) + comp.flush()
    usize = len(head) + times * len(block) + len(tail)
    if usize >= 1 << 32:
        raise ValueError("the bomb must stay under 4 GiB (no zip64)")
    crc = _crc32_repeat(zlib.crc32(block), len(block), times, zlib.crc32(head))
    crc = zlib.crc32(tail, crc)
    csize = len(c_head) + times * len(c_block) + len(c_tail)
    out = io.BytesIO()
    central = []
    for name, data in (("[Content_Types].xml", _CONTENT_TYPES.encode()), ("_rels/.rels", _RELS.encode())):
        offset = out.tell()
        deflated = zlib.compressobj(9, zlib.DEFLATED, -15)
        cdata = deflated.compress(data) + deflated.flush()
        n = name.encode()
        out.write(_zip_local(n, zlib.crc32(data), len(cdata), len(data)) + cdata)
        central.append(_zip_central(n, zlib.crc32(data), len(cdata), len(data), offset))
    offset = out.tell()
    name = b"word/document.xml"
    if declared is not None:
        usize = declared
    out.write(_zip_local(name, crc, csize, usize))
    out.write(c_head)
    for _ in range(times):
        out.write(c_block)
    out.write(c_tail)
    central.append(_zip_central(name, crc, csize, usize, offset))
    cd_start = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_start, 0))
    Path(path).write_bytes(out.getvalue())


def gridspan_bomb_docx(path: Path, span: int = 10_000_000, rows: int = 200) -> None:
    """A small .docx holding a table whose cells claim to span `span` grid columns (the table has three)."""
    import docx
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    document = docx.Document()
    document.add_paragraph("附表：项目资金明细")
    table = document.add_table(rows=rows, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = ("项目", "预算数", "执行数")[c] if r == 0 else (f"项目{r}", f"{100 + r}", f"{90 + r}")[c]
        tc = row.cells[0]._tc
        gs = OxmlElement("w:gridSpan")
        gs.set(qn("w:val"), str(span))
        tc.get_or_add_tcPr().append(gs)
    document.add_paragraph("以上资金均已拨付到位。")
    document.save(str(path))


def dense_table_pdf(path: Path, n: int = 80) -> None:
    """One page with an n x n ruled table, a small number in every cell."""
    from auditor.documents import _pymupdf

    pymupdf = _pymupdf()
    cw, ch, margin = 14.0, 9.0, 20.0
    width, height = 2 * margin + n * cw, 2 * margin + n * ch
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    shape = page.new_shape()
    for i in range(n + 1):
        shape.draw_line((margin, margin + i * ch), (margin + n * cw, margin + i * ch))
        shape.draw_line((margin + i * cw, margin), (margin + i * cw, margin + n * ch))
    shape.finish(width=0.3, color=(0, 0, 0))
    shape.commit()
    # One text call per column (its n numbers as lines): thousands of separate calls would take seconds.
    for c in range(n):
        column = "\n".join(str((r * n + c) % 1000) for r in range(n))
        page.insert_text((margin + c * cw + 1.5, margin + 6.8), column, fontsize=5, fontname="helv", lineheight=ch / 5)
    doc.save(str(path))


def big_text(path: Path, megabytes: float) -> None:
    """UTF-8 report prose of about `megabytes` MB, one sentence group per line, with headings."""
    chunk = (
        "\n".join((f"（{k % 10 + 1}）项目实施情况" if k % 7 == 0 else _prose(k)) for k in range(400)).encode("utf-8")
        + b"\n"
    )
    _repeat_to(path, chunk, megabytes)


def long_paragraph_text(path: Path, megabytes: float) -> None:
    """UTF-8 report prose of about `megabytes` MB as one paragraph: no line break anywhere."""
    chunk = "".join(_prose(k) for k in range(400)).encode("utf-8")
    _repeat_to(path, chunk, megabytes)


def _repeat_to(path: Path, chunk: bytes, megabytes: float) -> None:
    target = int(megabytes * (1 << 20))
    times, rest = divmod(target, len(chunk))
    # Cut the remainder at a character boundary (UTF-8 continuation bytes are 0b10xxxxxx).
    while rest and (chunk[rest] & 0xC0) == 0x80:
        rest -= 1
    with open(path, "wb") as f:
        for _ in range(times):
            f.write(chunk)
        f.write(chunk[:rest])
