"""The ruled-table port in auditor.documents finds exactly the tables PyMuPDF's find_tables finds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from auditor import documents
from auditor.documents import _pymupdf, _pymupdf_tables, _ruled_tables, _Unsure, load
from tests.conftest import FIXTURES, ROOT


def _maker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_ruled_pdfs", ROOT / "scripts" / "make_ruled_pdfs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _maker().make(tmp_path_factory.mktemp("ruled"))


def _compare(paths: list[Path]) -> tuple[int, int, list[str]]:
    """(pages compared, pages left to find_tables, pages whose tables differ)."""
    pymupdf = _pymupdf()
    compared = unsure = 0
    differ = []
    for path in paths:
        with pymupdf.open(path) as pdf:
            for page in pdf:
                drawings = page.get_cdrawings()
                if not drawings:
                    continue
                flags = pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_IMAGES
                raw = page.get_text("rawdict", textpage=page.get_textpage(flags=flags))
                try:
                    ours = _ruled_tables(page, drawings, raw)
                except _Unsure:
                    unsure += 1
                    continue
                compared += 1
                if ours != _pymupdf_tables(page):
                    differ.append(f"{path.name} p{page.number + 1}")
    return compared, unsure, differ


def test_drawn_tables_match_find_tables(drawn: list[Path]) -> None:
    compared, unsure, differ = _compare(drawn)
    assert differ == []
    assert compared >= 15
    assert unsure == 2  # the slanted watermark and the rotated page go to find_tables


def test_fixture_tables_match_find_tables() -> None:
    pdfs = [p for p in sorted(FIXTURES.rglob("*.pdf")) if "bad" not in p.relative_to(FIXTURES).parts]
    compared, unsure, differ = _compare(pdfs)
    assert differ == []
    assert compared >= 40 and unsure == 0


def test_merged_cells_and_two_tables(drawn: list[Path]) -> None:
    for style in ("lines", "rects", "bars"):
        doc = load(next(p for p in drawn if p.name == f"merged_two_tables_{style}.pdf"))
        assert len(doc.tables) == 2
        first = doc.tables[0].rows
        assert [len(r) for r in first] == [4] * 6
        assert first[1][0].merged and first[2][2].merged and first[2][3].merged  # 项目 over two rows, 3 columns
        assert not first[2][1].merged


def test_fallback_to_find_tables(drawn: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A page the port is unsure of is read by find_tables, with the same result as before."""
    path = next(p for p in drawn if p.name == "watermark.pdf")
    calls = []
    original = documents._pymupdf_tables

    def spy(page):  # type: ignore[no-untyped-def]
        calls.append(page.number)
        return original(page)

    monkeypatch.setattr(documents, "_pymupdf_tables", spy)
    doc = load(path)
    assert calls == [0]
    assert len(doc.tables) == 1 and len(doc.tables[0].rows) == 4
