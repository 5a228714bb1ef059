"""Hostile inputs end quickly with a LoadError or a bounded result and a note; nothing eats GBs of memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from auditor.documents import R_DOCX_BAD, R_DOCX_BOMB, load
from auditor.errors import LoadError
from tests import hostile_inputs

ROOT = Path(__file__).resolve().parents[1]


def refused(path: Path) -> tuple[str, int]:
    """The reason `load` refuses the file with, and the peak memory Python allocated on the way."""
    tracemalloc.start()
    try:
        with pytest.raises(LoadError) as err:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return err.value.reason, peak


def test_zip_bomb_docx_is_refused_before_decompressing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    hostile_inputs.zip_bomb_docx(path)
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size > 3 << 30
    reason, peak = refused(path)
    assert reason == R_DOCX_BOMB
    # Nothing beyond the file itself (4 MB) and zipfile's bookkeeping was allocated.
    assert peak < 10 * path.stat().st_size


def test_zip_bomb_lying_about_its_size_is_read_no_further_than_declared(tmp_path: Path) -> None:
    path = tmp_path / "liar.docx"
    # 512 MB behind a declared 1 MB: zipfile stops at the declared size and then the CRC check fails.
    hostile_inputs.zip_bomb_docx(path, gigabytes=0.5, declared=1 << 20)
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size == 1 << 20
    reason, peak = refused(path)
    assert reason == R_DOCX_BAD
    assert peak < 64 << 20


def test_gridspan_bomb_keeps_the_text_and_cuts_the_span(tmp_path: Path) -> None:
    path = tmp_path / "span.docx"
    hostile_inputs.gridspan_bomb_docx(path, rows=50)
    doc = load(path)
    assert "以上资金均已拨付到位" in doc.text
    (grid,) = doc.tables
    assert grid.rows[1][0].text == "项目1"
    assert "101" in [c.text for c in grid.rows[1]]
    assert len(grid.rows[0]) < 100
    assert any("跨10000000列" in n for n in doc.notes)


def test_dense_ruled_table_is_read_as_text_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "dense.pdf"
    hostile_inputs.dense_table_pdf(path, n=80)
    doc = load(path)
    assert any("表格线过密" in n for n in doc.notes)
    assert all(f"\t{k}\t" in doc.text or f"{k}\n" in doc.text for k in (7, 398, 999))  # the cells are still read
    # The numbers still line up in columns: the table is found from the words instead.
    assert all(len(g.rows) <= 81 for g in doc.tables)


def test_moderate_ruled_table_is_still_found(tmp_path: Path) -> None:
    path = tmp_path / "grid.pdf"
    hostile_inputs.dense_table_pdf(path, n=12)
    doc = load(path)
    assert not any("表格线过密" in n for n in doc.notes)
    assert [len(doc.tables[0].rows), len(doc.tables[0].rows[0])] == [12, 12]


@pytest.mark.parametrize("make", [hostile_inputs.big_text, hostile_inputs.long_paragraph_text])
def test_big_text_loads_linearly(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    make(small, 0.5)
    make(big, 4)
    sizes = []
    for path in (small, big):
        tracemalloc.start()
        try:
            doc = load(path)
            sizes.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert doc.text.startswith("2023年度") or doc.text.startswith("（1）")
    # Eight times the text, at most about eight times the memory (generous: no quadratic blow-up).
    assert sizes[1] < 16 * sizes[0]


def test_charset_detection_looks_at_a_sample_of_a_big_file(tmp_path: Path) -> None:
    # Windows-1252 with a euro sign (0x80) is neither UTF-8 nor GB18030: only charset-normalizer can name it.
    line = "Budget 2023: 1.234 € exécuté à 98,5 %, reçu le 3 décembre.\n"
    path = tmp_path / "cp1252.txt"
    path.write_bytes((line * 30_000).encode("cp1252"))
    assert path.stat().st_size > 1 << 20
    doc = load(path)
    assert doc.text == line * 30_000


def test_pdf_load_does_not_import_the_layout_model() -> None:
    fixture = next(p for p in sorted((ROOT / "fixtures").rglob("*.pdf")) if "bad" not in p.parts)
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import auditor.documents as d
        doc = d.load(Path({str(fixture)!r}))
        assert doc.text
        pymupdf = d._pymupdf()
        page = pymupdf.open({str(fixture)!r})[0]
        assert page.find_tables(use_layout=False) is not None
        print(sorted(m for m in ("onnxruntime", "pymupdf.layout", "pymupdf4llm", "numpy") if sys.modules.get(m)))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""
