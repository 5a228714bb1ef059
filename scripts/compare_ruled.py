"""Compare the ruled-table port in auditor.documents with PyMuPDF's find_tables on every page of some PDFs.

Usage: python scripts/compare_ruled.py PDF_OR_DIR... ; prints each page whose tables differ and a summary.
"""

from __future__ import annotations

import sys
from pathlib import Path

from auditor import documents as d


def compare(path: Path) -> tuple[int, int, int]:
    """(pages with drawings, pages that differ, pages the port left to find_tables) for one PDF."""
    pymupdf = d._pymupdf()
    pages = differ = unsure = 0
    with pymupdf.open(path) as pdf:
        for page in pdf:
            paths = page.get_cdrawings()
            if not paths:
                continue
            pages += 1
            raw = page.get_text("rawdict", textpage=page.get_textpage(flags=pymupdf.TEXTFLAGS_RAWDICT))
            try:
                new = d._ruled_tables(page, paths, raw)
            except d._Unsure:
                unsure += 1
                continue
            old = d._pymupdf_tables(page)
            if old != new:
                differ += 1
                print(f"{path} page {page.number + 1}: find_tables {old} != port {new}")
    return pages, differ, unsure


def main() -> None:
    files: list[Path] = []
    for arg in sys.argv[1:]:
        p = Path(arg)
        files.extend(sorted(p.rglob("*.pdf")) if p.is_dir() else [p])
    totals = [0, 0, 0]
    for f in files:
        try:
            got = compare(f)
        except Exception as exc:  # broken fixtures
            print(f"{f}: {type(exc).__name__}")
            continue
        totals = [a + b for a, b in zip(totals, got, strict=True)]
    print(f"pages with drawings {totals[0]}, differing {totals[1]}, left to find_tables {totals[2]}")


if __name__ == "__main__":
    main()
