"""Benchmark (not a test): what the review outputs cost on a folder of real reports.

Prints the run's wall time with and without report.html, the size of report.html (target < 5 MB on the 65
documents of ../shared/realdev), the seconds spent on it (evidence pages drawn in the workers, summed over
workers, plus assembling the page) as a share of the run (target < 1/10), and the size of flags.xlsx.
Usage: python scripts/bench_review.py [DIR] [--jobs N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from auditor.extract import ExtractConfig
from auditor.run import BatchOptions, run_batch

ROOT = Path(__file__).resolve().parents[1]


def once(folder: Path, jobs: int, html: bool) -> tuple[float, float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        result = run_batch(folder, out, ExtractConfig(extractor="rules"), BatchOptions(jobs=jobs, html=html))
        wall = time.perf_counter() - t0
        page = out / "report.html"
        return (
            wall,
            result.page_seconds,
            page.stat().st_size if page.exists() else 0,
            (out / "flags.xlsx").stat().st_size,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(ROOT.parent / "shared" / "realdev" / "cases"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = Path(args.folder)
    with_html = [once(folder, args.jobs, True) for _ in range(args.repeat)]
    without = [once(folder, args.jobs, False) for _ in range(args.repeat)]
    wall = statistics.median(w for w, _, _, _ in with_html)
    page_s = statistics.median(p for _, p, _, _ in with_html)
    bare = statistics.median(w for w, _, _, _ in without)
    size, xlsx = with_html[0][2], with_html[0][3]
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"folder {folder} ({files} files), --jobs {args.jobs}, median of {args.repeat}")
    print(f"run with report.html       {wall:8.2f} s")
    print(f"run with --no-html         {bare:8.2f} s   (difference {wall - bare:+.2f} s)")
    print(f"report.html seconds        {page_s:8.2f} s   = {page_s / wall:.3f} of the run   (target < 0.1)")
    print(f"report.html size           {size / 2**20:8.2f} MB  (target < 5 MB)")
    print(f"flags.xlsx size            {xlsx / 2**10:8.1f} KB")


if __name__ == "__main__":
    main()
