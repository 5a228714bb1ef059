"""`audit` with a model end to end against the replaying server: seeds give the rules' flags, a rerun makes
no request, a failing endpoint costs a Unit its model part only, and the API key is written nowhere."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.audit import audit_path
from auditor.cli import app
from auditor.extract import ExtractConfig

from ..conftest import SEEDS
from .conftest import FAKE_KEY, llm_config, v
from .fake_openai import Drop, FakeOpenAI, Hang, Raw, Reply, Status, Step
from .record_seeds import replies, request_text, sha

runner = CliRunner()
# start/end are left out: a quote never starts with a space, while a rules span sometimes does.
COMPARED = ("file", "unit", "check", "severity", "message", "stated", "computed", "difference", "evidence", "page")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def flag_rows(out: Path) -> list[tuple[str, ...]]:
    return [tuple(r[c] for c in COMPARED) for r in rows(out / "flags.csv")]


class Replay:
    """Answers each request with its recorded reply; an unknown request means the recordings are stale."""

    def __init__(self) -> None:
        self.replies = replies()

    def __call__(self, body: dict[str, Any]) -> Step:
        text = request_text(body)
        reply = self.replies.get(sha(text)) if text is not None else None
        if reply is None:
            return Status(400, message="no recorded reply: run python -m tests.llm.record_seeds")
        return Reply(reply, prompt_tokens=1000 + len(text or ""), completion_tokens=200)


def audit(args: list[str], env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, args, env={"OPENAI_API_KEY": FAKE_KEY, **(env or {})})


@pytest.fixture(scope="module")
def rules_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rules")
    res = runner.invoke(app, [str(SEEDS), "-o", str(out), "-q", "--extractor", "rules"])
    assert res.exit_code in (0, 1), res.output
    return out


def test_seeds_with_llm_give_the_rules_flags_and_a_rerun_is_free(
    tmp_path: Path, rules_out: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "cache"
    with FakeOpenAI(responder=Replay()) as srv:
        base = ["--extractor", "llm", "--base-url", srv.base_url, "--model", "m", "--cache-dir", str(cache), "-q"]
        first = audit([str(SEEDS), "-o", str(tmp_path / "out1"), *base])
        n_first = srv.count
        second = audit([str(SEEDS), "-o", str(tmp_path / "out2"), *base, "--concurrency", "4"])
        n_second = srv.count - n_first
        headers = [s.headers.get("authorization", "") for s in srv.seen]
    assert first.exit_code in (0, 1), first.output
    assert second.exit_code == first.exit_code
    reports = rows(tmp_path / "out1" / "reports.csv")
    assert all(r["status"] != "failed" for r in reports), [r["detail"] for r in reports]
    # A request's cost is written on the first report it reads (small ones share a request).
    assert n_first == sum(int(r["llm_calls"]) for r in reports) == len(Replay().replies)
    assert sum(int(r["prompt_tokens"]) for r in reports) > 0 and all(r["cached"] == "no" for r in reports)
    assert all(r["dropped"] == "0" and r["disagreements"] == "0" for r in reports)
    assert flag_rows(tmp_path / "out1") == flag_rows(rules_out), (
        "llm flags differ from rules flags; after a rules change re-record: python -m tests.llm.record_seeds"
    )

    assert n_second == 0
    again = rows(tmp_path / "out2" / "reports.csv")
    assert [r["unit"] for r in again] == [r["unit"] for r in reports]  # order kept at concurrency 4
    assert all(r["cached"] == "yes" and r["llm_calls"] == "0" for r in again)
    assert flag_rows(tmp_path / "out2") == flag_rows(tmp_path / "out1")

    # The key was sent, and written nowhere.
    assert all(h == f"Bearer {FAKE_KEY}" for h in headers)
    written = [p for d in (tmp_path / "out1", tmp_path / "out2", cache) for p in d.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in written)
    for p in written:
        assert FAKE_KEY.encode() not in p.read_bytes(), p
    assert FAKE_KEY not in first.output + second.output
    assert FAKE_KEY not in caplog.text


def test_concurrency_overlaps_requests(tmp_path: Path) -> None:
    import time

    cfg = dict(no_cache=True)
    with FakeOpenAI(responder=Replay(), latency=0.2) as srv:
        t0 = time.monotonic()
        one = audit_path(SEEDS, llm_config(srv.base_url, tmp_path, concurrency=1, **cfg))
        t1 = time.monotonic()
        eight = audit_path(SEEDS, llm_config(srv.base_url, tmp_path, concurrency=8, **cfg))
        t2 = time.monotonic()
    assert [u.unit for u in one.units] == [u.unit for u in eight.units]
    assert [(f.check, f.stated) for f in one.flags] == [(f.check, f.stated) for f in eight.flags]
    assert (t2 - t1) < (t1 - t0) * 0.75  # ~2.4x on 2 cores; the bound leaves room for a busy CI machine


FAULTS: dict[str, tuple[list[Step], int, str]] = {
    # name: (what the server does for every request about report b, requests b costs, reason in the warning)
    "500": ([Status(500)] * 3, 3, "HTTP 500"),
    "429": ([Status(429, {"Retry-After": "0"})] * 3, 3, "HTTP 429"),
    "hang": ([Hang(3)] * 3, 3, "超时"),
    "drop": ([Drop()] * 3, 3, "连接"),
    "non-json": ([Raw()] * 2, 2, "不符合结构"),
    "length": ([Reply("{", finish_reason="length")] * 2, 2, "截断"),
}


def flow(n: str, s: str) -> dict[str, Any]:
    def value(label: str, number: str, unit: str) -> dict[str, str]:
        return v(label, number, unit, f"{label}{number}{unit}")

    return {
        "kind": "flow",
        "stated": value("预算执行率为", "95", "%"),
        "operands": [value("下达资金", n, "万元"), value("实际支出", s, "万元")],
    }


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_endpoint_costs_a_unit_its_model_part_only(tmp_path: Path, fault: str, fast_retries: None) -> None:
    steps, cost, reason = FAULTS[fault]
    src = tmp_path / "in"
    src.mkdir()
    # a: 90 ÷ 100 is not the stated 95% (flagged); c: 190 ÷ 200 is 95% (ok); b: the server fails for it, and
    # its rules results stand (a rate of 80 ÷ 100, stated as 90%: flagged whatever the model does).
    (src / "a.txt").write_text("当年下达资金100万元，实际支出90万元，预算执行率为95%。\n", encoding="utf-8")
    (src / "b.txt").write_text("另一份报告：当年下达资金100万元，实际支出80万元，预算执行率为90%。\n", encoding="utf-8")
    (src / "c.txt").write_text("当年下达资金200万元，实际支出190万元，预算执行率为95%。\n", encoding="utf-8")
    script = list(steps)

    def respond(body: dict[str, Any]) -> Step:
        text = request_text(body) or ""
        if "另一份报告" in text:
            return script.pop(0)
        return Reply({"relations": [flow("200", "190") if "200" in text else flow("100", "90")]})

    with FakeOpenAI(responder=respond) as srv:
        res = audit_path(
            src, llm_config(srv.base_url, tmp_path, timeout=0.3, max_attempts=3, concurrency=2, no_cache=True)
        )
        assert srv.count == 2 + cost
    by_file = {u.file: u for u in res.units}
    b = by_file["b.txt"]
    assert b.status == "flagged" and [f.check for f in b.flags] == ["EXEC_RATE", "LLM"]
    [warning] = [f for f in b.flags if f.check == "LLM"]
    assert warning.severity == "warning" and reason in warning.message and "只有规则读出的结果" in warning.message
    assert FAKE_KEY not in warning.message
    assert by_file["a.txt"].status == "flagged" and by_file["c.txt"].status == "ok"
    assert [f.check for f in by_file["a.txt"].flags] == ["EXEC_RATE"]
    assert [u.file for u in res.units] == ["a.txt", "b.txt", "c.txt"]


def test_invented_numbers_give_a_grounding_flag_and_a_dropped_count(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "r.txt").write_text("当年下达资金100万元，实际支出90万元，预算执行率为90%。\n", encoding="utf-8")
    invented = flow("465.41", "90")
    invented["operands"][0]["quote"] = "下达资金100万元"  # a real quote, an invented number
    with FakeOpenAI([Reply({"relations": [invented]})]) as srv:
        res = audit(
            [
                str(src),
                "-o",
                str(tmp_path / "out"),
                "-q",
                "--base-url",
                srv.base_url,
                "--model",
                "m",
                "--no-cache",
            ]
        )
        assert srv.count == 1
    assert res.exit_code == 0, res.output
    flags = rows(tmp_path / "out" / "flags.csv")
    assert [f["check"] for f in flags] == ["GROUNDING"]
    assert rows(tmp_path / "out" / "reports.csv")[0]["dropped"] == "2"  # the value, then its flow
    assert not any("465.41" in v for f in flags for v in f.values())


def test_auto_adds_the_model_only_when_one_is_configured(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEEDS / "000_76de77d70b614fce.txt", src)
    with FakeOpenAI(responder=Replay()) as srv:
        plain = runner.invoke(app, [str(src), "-o", str(tmp_path / "o1"), "-q"], env={"AUDITOR_MODEL": ""})
        assert srv.count == 0
        env = {"AUDITOR_MODEL": "m", "OPENAI_BASE_URL": srv.base_url, "OPENAI_API_KEY": FAKE_KEY}
        llm = runner.invoke(app, [str(src), "-o", str(tmp_path / "o2"), "-q", "--no-cache"], env=env)
        assert srv.count >= 1
    assert plain.exit_code in (0, 1) and llm.exit_code == plain.exit_code, llm.output
    assert rows(tmp_path / "o1" / "reports.csv")[0]["extractor"] == "rules"
    assert rows(tmp_path / "o2" / "reports.csv")[0]["extractor"] == "hybrid"  # the rules always run


def test_hybrid_runs_both_and_matches_rules_on_seeds(tmp_path: Path, rules_out: Path) -> None:
    with FakeOpenAI(responder=Replay()) as srv:
        res = audit(
            [
                str(SEEDS),
                "-o",
                str(tmp_path / "out"),
                "-q",
                "--extractor",
                "hybrid",
                "--base-url",
                srv.base_url,
                "--model",
                "m",
                "--cache-dir",
                str(tmp_path / "cache"),
            ]
        )
        assert srv.count >= 11
    assert res.exit_code in (0, 1), res.output
    reports = rows(tmp_path / "out" / "reports.csv")
    assert {r["extractor"] for r in reports} == {"hybrid"}
    assert flag_rows(tmp_path / "out") == flag_rows(rules_out)


def test_config_from_the_library(tmp_path: Path) -> None:
    cfg = ExtractConfig(extractor="llm", model="m", base_url="http://127.0.0.1:9/v1", no_cache=True)
    assert cfg.resolved() == "hybrid"  # `llm` is another name for it: the rules always run


def test_a_corrupt_cache_and_a_dead_endpoint_leave_a_run_with_the_rules_results(tmp_path: Path) -> None:
    seed = SEEDS / "001_58accd15f871133c.txt"  # one report, 5 errors and a warning
    rules = runner.invoke(app, [str(seed), "-o", str(tmp_path / "rules"), "-q", "--extractor", "rules"])
    assert rules.exit_code == 1, rules.output
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "llm-cache.sqlite3").write_bytes(b"this is not a database" * 100)
    # Nothing listens on port 9 of the loopback: every request is refused.
    args = [str(seed), "-o", str(tmp_path / "out"), "-q", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"]
    res = audit([*args, "--cache-dir", str(cache)])
    assert res.exit_code == 1, res.output  # the report's own errors: the run completed
    assert [f for f in flag_rows(tmp_path / "out") if f[2] != "LLM"] == flag_rows(tmp_path / "rules")
    [report] = rows(tmp_path / "out" / "reports.csv")
    assert report["status"] == "flagged" and report["extractor"] == "hybrid"
    [warning] = [r for r in rows(tmp_path / "out" / "flags.csv") if r["check"] == "LLM"]
    assert warning["severity"] == "warning" and "连接" in warning["message"]
    # The damaged file was moved aside, not deleted, and the report says so.
    [moved] = [p for p in cache.iterdir() if ".corrupt-" in p.name]
    assert moved.read_bytes() == b"this is not a database" * 100
    assert "LLM缓存已损坏" in report["detail"] and moved.name in report["detail"]


def test_resume_asks_the_model_again_for_a_file_it_failed_on(tmp_path: Path) -> None:
    seed = SEEDS / "000_76de77d70b614fce.txt"
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(seed, src)
    up = {"ok": False}
    replay = Replay()

    def respond(body: dict[str, Any]) -> Step:
        return replay(body) if up["ok"] else Status(400, message="model not loaded")  # 400: no retries, fast

    with FakeOpenAI(responder=respond) as srv:
        args = [str(src), "-o", str(tmp_path / "out"), "-q", "--model", "m", "--base-url", srv.base_url, "--no-cache"]
        first = audit(args)
        assert first.exit_code in (0, 1) and srv.count == 1, first.output
        assert [r["check"] for r in rows(tmp_path / "out" / "flags.csv")] == ["LLM"]
        up["ok"] = True
        again = audit([*args, "--resume"])
        assert srv.count == 2, again.output  # the file was not kept: its model part had failed
    assert again.exit_code == 0, again.output
    assert rows(tmp_path / "out" / "flags.csv") == []
    assert rows(tmp_path / "out" / "reports.csv")[0]["llm_calls"] == "1"
