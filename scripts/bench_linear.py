"""Benchmark (not a test): does the per-file pipeline cost grow linearly with the input?

Times load → split → (extract, ground, check) per Unit on generated inputs of growing size: one long
paragraph of report prose full of numbers, a multi-line file made of the real fixture reports repeated,
and a multi-line filler file with few numbers. Prints seconds, seconds per MB and the ratio to the
smallest size of each kind.

    python scripts/bench_linear.py [--kinds para,real,filler] [--sizes 0.1,1,2] [--stages pipeline|extract|layout|split]
"""

from __future__ import annotations

import argparse
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_linear import MAKERS, extract, pipeline, split_layout, split_only  # noqa: E402

STAGES = {"pipeline": pipeline, "extract": extract, "layout": split_layout, "split": split_only}
DEFAULT_SIZES = {"para": "0.1,1,2", "real": "0.1,10,50", "filler": "0.1,10,50"}


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", default="para,real,filler")
    ap.add_argument("--sizes", default="", help="MB, comma-separated (default depends on the kind)")
    ap.add_argument("--stages", default="pipeline", choices=list(STAGES))
    ap.add_argument("--limit", type=int, default=600, help="give up on one run after this many seconds")
    args = ap.parse_args()
    run = STAGES[args.stages]
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            base = None
            for mb in [float(s) for s in (args.sizes or DEFAULT_SIZES[kind]).split(",")]:
                path = Path(tmp) / f"{kind}_{mb}.txt"
                path.write_text(MAKERS[kind](int(mb * 1_000_000)), encoding="utf-8")
                signal.alarm(args.limit)
                t0 = time.perf_counter()
                try:
                    units = run(path)
                    secs = time.perf_counter() - t0
                except _Timeout:
                    print(f"{kind:7s} {mb:7.1f} MB  > {args.limit} s (gave up)", flush=True)
                    continue
                finally:
                    signal.alarm(0)
                    path.unlink()
                base = base or secs / mb
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"{kind:7s} {mb:7.1f} MB  {secs:8.2f} s  {secs / mb:7.2f} s/MB  ratio {secs / mb / base:5.2f}"
                    f"  units {units:6d}  peak RSS {peak:7.0f} MB",
                    flush=True,
                )


if __name__ == "__main__":
    main()
