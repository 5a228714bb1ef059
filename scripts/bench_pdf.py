"""Benchmark (not a test): PDF load time against PyMuPDF's own floor on the fixture PDFs.

The floor is what any reader of these files pays: open the PDF and `page.get_text("rawdict")` on every page
("get_text"), plus `page.find_tables(use_layout=False)` on every page ("get_text + find_tables"). The load time
is `auditor.documents.load` on the same files. Usage: python scripts/bench_pdf.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from auditor.documents import _pymupdf, load

ROOT = Path(__file__).resolve().parents[1]


def fixture_pdfs(root: Path = ROOT / "fixtures") -> list[Path]:
    """Every PDF under fixtures/ except the deliberately broken ones in fixtures/bad."""
    return [p for p in sorted(root.rglob("*.pdf")) if "bad" not in p.relative_to(root).parts]


def _get_text(path: Path) -> None:
    pymupdf = _pymupdf()
    with pymupdf.open(path) as pdf:
        for page in pdf:
            page.get_text("rawdict")


def _get_text_tables(path: Path) -> None:
    pymupdf = _pymupdf()
    with pymupdf.open(path) as pdf:
        for page in pdf:
            page.get_text("rawdict")
            page.find_tables(use_layout=False)


def _best_total(fn: Callable[[Path], object], files: list[Path], repeat: int) -> float:
    """Sum over files of the fastest of `repeat` runs: the least noisy figure on a shared machine."""
    total = 0.0
    for f in files:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(f)
            best = min(best, time.perf_counter() - t0)
        total += best
    return total


def pdf_floor_figures(files: list[Path] | None = None, repeat: int = 3) -> dict[str, float]:
    """Seconds for load / get_text / get_text + find_tables over the files, and load's ratio to each floor."""
    files = fixture_pdfs() if files is None else files
    os.environ.setdefault("PYMUPDF_SUGGEST_LAYOUT_ANALYZER", "0")
    for f in files[:1]:  # warm up imports and MuPDF's font cache
        load(f)
        _get_text_tables(f)
    load_s = _best_total(load, files, repeat)
    text_s = _best_total(_get_text, files, repeat)
    tables_s = _best_total(_get_text_tables, files, repeat)
    return {
        "files": float(len(files)),
        "load_s": load_s,
        "get_text_s": text_s,
        "get_text_find_tables_s": tables_s,
        "ratio_vs_get_text_find_tables": load_s / tables_s,
        "ratio_vs_get_text": load_s / text_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    fig = pdf_floor_figures(repeat=args.repeat)
    print(f"files: {fig['files']:.0f}")
    print(f"load:                    {fig['load_s']:.3f} s")
    print(f"get_text:                {fig['get_text_s']:.3f} s")
    print(f"get_text + find_tables:  {fig['get_text_find_tables_s']:.3f} s")
    print(f"load / (get_text + find_tables): {fig['ratio_vs_get_text_find_tables']:.2f}")
    print(f"load / get_text:                 {fig['ratio_vs_get_text']:.2f}")


if __name__ == "__main__":
    main()
