"""Benchmark the LLM extractor on the seed reports against the loopback replay server (not a test).

Prints the wall time at concurrency 1 and 8 with 200 ms of latency per request, their ratio, requests
and request/reply size per Unit, and the request count of a rerun with the cache (must be 0).

    python scripts/bench_llm.py [--latency 0.2] [--seeds fixtures/seeds]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.audit import AuditResult, audit_path  # noqa: E402
from auditor.extract import ExtractConfig  # noqa: E402
from tests.llm.fake_openai import FakeOpenAI, Reply, Status, Step  # noqa: E402
from tests.llm.record_seeds import chunk_of, replies, sha  # noqa: E402


class Replay:
    """Recorded replies by chunk; usage is reported in characters so the sizes are real, not invented."""

    def __init__(self) -> None:
        self.replies = replies()
        self.request_chars = 0
        self.reply_chars = 0

    def __call__(self, body: dict[str, Any]) -> Step:
        chunk = chunk_of(body)
        reply = self.replies.get(sha(chunk)) if chunk is not None else None
        if reply is None:
            return Status(400, message="no recorded reply: run python -m tests.llm.record_seeds")
        sent = len(json.dumps(body, ensure_ascii=False))
        got = len(json.dumps(reply, ensure_ascii=False))
        self.request_chars += sent
        self.reply_chars += got
        return Reply(reply, prompt_tokens=sent, completion_tokens=got)


def run(seeds: Path, base_url: str, concurrency: int, cache_dir: str | None) -> tuple[float, AuditResult]:
    cfg = ExtractConfig(
        extractor="llm",
        model="bench",
        base_url=base_url,
        api_key="sk-bench",
        concurrency=concurrency,
        cache_dir=cache_dir,
        no_cache=cache_dir is None,
    )
    t0 = time.perf_counter()
    res = audit_path(seeds, cfg)
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--seeds", type=Path, default=ROOT / "fixtures" / "seeds")
    args = ap.parse_args()
    out = sys.stdout
    replay = Replay()
    with FakeOpenAI(responder=replay, latency=args.latency) as srv, tempfile.TemporaryDirectory() as tmp:
        run(args.seeds, srv.base_url, 1, None)  # warm-up: imports, client, schema
        n0 = srv.count
        t1, r1 = run(args.seeds, srv.base_url, 1, None)
        n1 = srv.count - n0
        t8, r8 = run(args.seeds, srv.base_url, 8, tmp)
        n8 = srv.count - n0 - n1
        before = srv.count
        t_re, r_re = run(args.seeds, srv.base_url, 8, tmp)
        n_re = srv.count - before
    units = len(r1.units)
    failed = sum(u.status == "failed" for u in r1.units + r8.units + r_re.units)
    same = [(f.file, f.check, f.stated) for f in r1.flags] == [(f.file, f.check, f.stated) for f in r8.flags]
    out.write(
        f"seeds: {units} Units in {len({u.file for u in r1.units})} files, latency {args.latency * 1000:.0f} ms"
        f" per request, failed Units: {failed}\n"
    )
    out.write(f"concurrency 1: {t1:6.2f} s  ({n1} requests)\n")
    out.write(f"concurrency 8: {t8:6.2f} s  ({n8} requests)  speed-up x{t1 / t8:.2f}, same flags: {same}\n")
    out.write(f"requests per Unit: {n1 / units:.2f}\n")
    sent = sum(u.prompt_tokens for u in r1.units) / units
    got = sum(u.completion_tokens for u in r1.units) / units
    out.write(
        f"per Unit: {sent:,.0f} request chars, {got:,.0f} reply chars"
        f" (CJK text is about 1-1.5 chars per token; the JSON schema about 4)\n"
    )
    out.write(
        f"rerun with cache: {t_re:6.2f} s, {n_re} requests, cached Units {sum(u.cached for u in r_re.units)}"
        f"/{len(r_re.units)}\n"
    )


if __name__ == "__main__":
    main()
