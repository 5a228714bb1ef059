"""Bad input gives a clean LoadError with a short Chinese reason; odd but valid input loads."""

from __future__ import annotations

import csv
import os
import random
import shutil
import zipfile
from pathlib import Path

import pymupdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import documents
from auditor.documents import load
from auditor.errors import LoadError

from .conftest import FIXTURES

BAD = FIXTURES / "bad"
REAL_PDF = FIXTURES / "converted" / "000_76de77d70b614fce.pdf"
REAL_DOCX = FIXTURES / "converted" / "000_76de77d70b614fce.docx"


def expected_rows() -> list[dict[str, str]]:
    with (BAD / "expected.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def assert_clean_reason(reason: str) -> None:
    """The reason lands in a CSV cell: one short line, in Chinese."""
    assert reason and "\n" not in reason and "\r" not in reason
    assert len(reason) <= 60
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason)


def test_every_bad_fixture_has_an_expected_row() -> None:
    listed = {row["file"] for row in expected_rows()}
    present = {p.name for p in BAD.iterdir() if p.name != "expected.csv"}
    assert listed == present
    for row in expected_rows():
        assert row["status"] in {"ok", "failed"}
        assert (row["status"] == "failed") == bool(row["reason_contains"])


@pytest.mark.parametrize("row", expected_rows(), ids=lambda r: r["file"])
def test_bad_fixture(row: dict[str, str]) -> None:
    path = BAD / row["file"]
    if row["file"] == "scanned.pdf" and documents.ocr_available():
        # With Tesseract and chi_sim installed the scan is read by OCR instead.
        doc = load(path)
        assert doc.text.strip()
        assert "第1页经OCR识别" in doc.notes
        assert "437" in doc.text
        return
    if row["status"] == "ok":
        doc = load(path)
        assert doc.text.strip()
        assert "\ufeff" not in doc.text
        assert "\r" not in doc.text
        return
    with pytest.raises(LoadError) as err:
        load(path)
    assert row["reason_contains"] in err.value.reason
    assert err.value.path == str(path)
    assert_clean_reason(err.value.reason)


def test_ok_fixtures_decode_to_the_right_text() -> None:
    gb = load(BAD / "gb18030.txt").text
    assert gb.startswith("广元市医疗保障局\n2023年度城乡居民医保财政补助资金绩效自评报告\n")
    assert "预算执行率为100.00%，自评得分91.54分。" in gb
    assert load(BAD / "utf16.txt").text == gb
    bom = load(BAD / "utf8_bom.txt")
    assert bom.text == "金凤区医疗保障局\n实际到位资金125万元，资金到位率100%。\n"
    assert bom.notes == ()


def test_scanned_pdf_without_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reason an auditor sees when Tesseract is missing (tested even where it is installed)."""
    monkeypatch.setattr(documents, "ocr_available", lambda: False)
    with pytest.raises(LoadError) as err:
        load(BAD / "scanned.pdf")
    assert err.value.reason == "扫描件无文本层，需安装 tesseract-ocr-chi-sim"


def test_ocr_availability_follows_tesseract() -> None:
    if shutil.which("tesseract") is None:
        assert not documents.ocr_available()


def test_scanned_page_among_text_pages_is_skipped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "ocr_available", lambda: False)
    mixed = pymupdf.open(BAD / "scanned.pdf")  # page 1: an image only
    mixed.insert_pdf(pymupdf.open(REAL_PDF))  # pages 2-3: text
    mixed.save(tmp_path / "mixed.pdf")
    doc = load(tmp_path / "mixed.pdf")
    assert "年末资金结余48.99万元" in doc.text
    assert any("第1页" in n and "tesseract" in n for n in doc.notes)
    assert doc.page_starts is not None and len(doc.page_starts) == 3
    assert doc.page_of(doc.text.find("48.99")) == 2


def test_blank_page_is_not_a_scan(tmp_path: Path) -> None:
    pdf = pymupdf.open(REAL_PDF)
    pdf.new_page()
    pdf.save(tmp_path / "blank_last.pdf")
    doc = load(tmp_path / "blank_last.pdf")
    assert doc.notes == ()
    assert doc.page_starts is not None and len(doc.page_starts) == 3


def test_directory_named_like_a_report(tmp_path: Path) -> None:
    folder = tmp_path / "x.txt"
    folder.mkdir()
    with pytest.raises(LoadError) as err:
        load(folder)
    assert err.value.reason == "无法读取文件：这是一个文件夹"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        load(tmp_path / "gone.pdf")
    assert err.value.reason == "文件不存在"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: a chmod 000 file is still readable, so no error to see "
    "(test_permission_denied_simulated covers the code path)",
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("内容", encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(LoadError) as err:
            load(path)
        assert err.value.reason == "无法读取文件：权限不足"
    finally:
        path.chmod(0o600)


def test_permission_denied_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(REAL_PDF.read_bytes())

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(LoadError) as err:
        load(path)
    assert err.value.reason == "无法读取文件：权限不足"


def test_repaired_pdf_loads_with_a_note(tmp_path: Path) -> None:
    data = REAL_PDF.read_bytes()
    start = data.rindex(b"startxref")
    broken = data[:start] + b"startxref\n99\n%%EOF\n"  # wrong xref offset: MuPDF rebuilds it
    (tmp_path / "r.pdf").write_bytes(broken)
    doc = load(tmp_path / "r.pdf")
    assert "年末资金结余48.99万元" in doc.text
    assert "PDF 结构有误，已自动修复" in doc.notes


def test_docx_that_is_a_zip_without_word_part(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "不是 Word")
    with pytest.raises(LoadError) as err:
        load(path)
    assert err.value.reason == "Word 文件损坏或不是 docx"


def test_xlsx_renamed_docx(tmp_path: Path) -> None:
    # python-docx refuses a package whose main part is a spreadsheet.
    path = tmp_path / "x.docx"
    with zipfile.ZipFile(REAL_DOCX) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main", b"spreadsheetml.sheet.main")
            dst.writestr(info.filename, data)
    with pytest.raises(LoadError) as err:
        load(path)
    assert err.value.reason == "Word 文件损坏或不是 docx"


def _mutate(data: bytes, seed: int, how: str) -> bytes:
    rng = random.Random(seed)
    if how == "cut":
        return data[: rng.randrange(1, len(data))]
    out = bytearray(data)
    for _ in range(rng.randrange(1, 40)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    how=st.sampled_from(["cut", "flip"]),
    suffix=st.sampled_from([".pdf", ".docx"]),
)
def test_damaged_files_never_crash(tmp_path: Path, seed: int, how: str, suffix: str) -> None:
    """Whatever the damage, load() returns a Document or raises LoadError, nothing else."""
    source = REAL_PDF if suffix == ".pdf" else REAL_DOCX
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(_mutate(source.read_bytes(), seed, how))
    try:
        doc = load(path)
    except LoadError as err:
        assert_clean_reason(err.reason)
    else:
        assert isinstance(doc.text, str)


def test_damaged_content_stream_is_noted(tmp_path: Path) -> None:
    """MuPDF drops undecodable content silently (only its warning log says so): the loader notes it."""
    data = bytearray(REAL_PDF.read_bytes())
    xref = pymupdf.open(REAL_PDF)[0].get_contents()[0]
    start = data.index(b"stream", data.index(b"\n%d 0 obj" % xref)) + 7
    data[start + 40 : start + 48] = b"\x00garbage"  # inside page 1's deflated content
    (tmp_path / "d.pdf").write_bytes(bytes(data))
    doc = load(tmp_path / "d.pdf")
    assert "第1页内容有损坏，提取的文字可能不全" in doc.notes
    assert not any(note.startswith("第2页") for note in doc.notes)


def test_pdf_with_every_stream_damaged_is_corrupt(tmp_path: Path) -> None:
    data = bytearray(REAL_PDF.read_bytes())
    position = 0
    while (position := data.find(b"stream\n", position)) != -1:
        data[position + 47 : position + 55] = b"\x00garbage"
        position += 7
    (tmp_path / "d.pdf").write_bytes(bytes(data))
    with pytest.raises(LoadError) as err:
        load(tmp_path / "d.pdf")
    assert err.value.reason == "PDF 文件损坏或被截断"
