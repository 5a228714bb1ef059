"""Benchmark (not a test): time and memory of `audit` with the rules extractor, each figure beside its floor.

Prints, from one run:
- seconds per file and per Unit for text, PDF and DOCX inputs (in process);
- PDF load time ÷ PyMuPDF's own get_text + find_tables, and ÷ get_text alone (targets ≤ 1.2 and ≤ 2.5);
- 1,000 text files through the real command at --jobs 2 ÷ --jobs 1 (target ≤ 0.6);
- peak memory of the whole run (command and workers) at 100 and at 1,000 files (target: flat within 20%).
Usage: python scripts/bench_rules.py [--repeat N] [--files N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from auditor.audit import audit_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def per_file(repeat: int) -> None:
    groups = {
        "txt (seeds)": sorted((ROOT / "fixtures" / "seeds").glob("*.txt")),
        "pdf (converted)": sorted((ROOT / "fixtures" / "converted").glob("*.pdf")),
        "docx (converted)": sorted((ROOT / "fixtures" / "converted").glob("*.docx")),
    }
    print(f"{'input':18} {'files':>5} {'units':>5} {'median s/file':>14} {'median ms/unit':>15}")
    for name, files in groups.items():
        times, units = [], 0
        for _ in range(repeat):
            for f in files:
                t0 = time.perf_counter()
                result = audit_path(f)
                times.append(time.perf_counter() - t0)
                units += len(result.units)
        units //= repeat
        med = statistics.median(times)
        print(f"{name:18} {len(files):5d} {units:5d} {med:14.3f} {1000 * sum(times) / repeat / units:15.1f}")


def corpus(folder: Path, n: int) -> Path:
    """n text reports: the real ones (realdev and seeds) copied round-robin under distinct names."""
    sources = sorted((ROOT / "fixtures" / "realdev" / "cases").glob("*.txt")) + sorted(
        (ROOT / "fixtures" / "seeds").glob("*.txt")
    )
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = sources[i % len(sources)]
        shutil.copy(src, folder / f"{i:05d}_{src.name}")
    return folder


def run(folder: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB, the command plus all its workers) of one real run."""
    cmd = [sys.executable, "-m", "auditor", str(folder), "-o", str(out), "-q", "--fail-on", "never", "-j", str(jobs)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    top = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit exited {proc.returncode}")
    return seconds, peak / 2**20


def line(name: str, value: float, target: str, ok: bool) -> None:
    print(f"{name:48} {value:8.2f}   target {target:8} {'ok' if ok else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--files", type=int, default=1000)
    args = ap.parse_args()
    per_file(args.repeat)
    print()

    from bench_pdf import pdf_floor_figures

    pdf = pdf_floor_figures()
    print(
        f"PDF ({pdf['files']:.0f} files): load {pdf['load_s']:.2f} s, get_text {pdf['get_text_s']:.2f} s, "
        f"get_text + find_tables {pdf['get_text_find_tables_s']:.2f} s"
    )
    ratio = pdf["ratio_vs_get_text_find_tables"]
    line("PDF time ÷ (get_text + find_tables)", ratio, "≤ 1.2", ratio <= 1.2)
    line("PDF time ÷ get_text", pdf["ratio_vs_get_text"], "≤ 2.5", pdf["ratio_vs_get_text"] <= 2.5)

    with tempfile.TemporaryDirectory() as tmp:
        big = corpus(Path(tmp) / "many", args.files)
        small = corpus(Path(tmp) / "few", args.files // 10)
        mb = sum(p.stat().st_size for p in big.iterdir()) / 2**20
        t1, m1 = run(big, Path(tmp) / "out1", 1)
        t2, m2 = run(big, Path(tmp) / "out2", 2)
        _, m_small = run(small, Path(tmp) / "out3", 2)
    print(f"{args.files} text files ({mb:.1f} MB): --jobs 1 {t1:.1f} s, --jobs 2 {t2:.1f} s")
    line(f"{args.files} files --jobs 2 ÷ --jobs 1", t2 / t1, "≤ 0.6", t2 / t1 <= 0.6)
    print(
        f"peak memory (command + workers, --jobs 2): {m_small:.0f} MiB at {args.files // 10} files, "
        f"{m2:.0f} MiB at {args.files}; --jobs 1: {m1:.0f} MiB"
    )
    line(f"peak memory {args.files} ÷ {args.files // 10} files", m2 / m_small, "≤ 1.2", m2 / m_small <= 1.2)


if __name__ == "__main__":
    main()
