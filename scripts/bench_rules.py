"""Benchmark (not a test): wall time and memory of `audit` with the rules extractor on the fixtures.

Prints seconds per file and per Unit for text, PDF and DOCX inputs, and the process's peak memory.
Usage: python scripts/bench_rules.py [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from auditor.audit import audit_path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    groups = {
        "txt (seeds)": sorted((ROOT / "fixtures" / "seeds").glob("*.txt")),
        "pdf (converted)": sorted((ROOT / "fixtures" / "converted").glob("*.pdf")),
        "docx (converted)": sorted((ROOT / "fixtures" / "converted").glob("*.docx")),
    }
    print(f"{'input':18} {'files':>5} {'units':>5} {'median s/file':>14} {'median ms/unit':>15}")
    for name, files in groups.items():
        per_file, units = [], 0
        for _ in range(args.repeat):
            for f in files:
                t0 = time.perf_counter()
                result = audit_path(f)
                per_file.append(time.perf_counter() - t0)
                units += len(result.units)
        units //= args.repeat
        med = statistics.median(per_file)
        print(f"{name:18} {len(files):5d} {units:5d} {med:14.3f} {1000 * sum(per_file) / args.repeat / units:15.1f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
