"""Replies a careful model would give for three real documents (fixtures/llm/realdev, written by hand): each adds
a relation the rules do not read, and that relation reaches checks.csv, and in the contradiction variant
flags.csv, through the real command. Expected rows are the hand-computed ones of fixtures/llm/realdev/README.md."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app

from ..conftest import rows
from .conftest import FAKE_KEY
from .fake_openai import FakeOpenAI, Reply, Step

ROOT = Path(__file__).resolve().parents[2]
REPLIES = ROOT / "fixtures" / "llm" / "realdev"
CASES = ROOT / "fixtures" / "realdev" / "cases"
runner = CliRunner()

# case → (the document, its reply, the model-only rows as (check, stated, computed, result))
EXPECTED: dict[str, tuple[Path, Path, set[tuple[str, str, str, str]]]] = {
    "b003": (
        CASES / "b003.txt",
        REPLIES / "b003" / "reply.json",
        {("RATIO", "70.16%", "70.16%", "ok"), ("RATIO", "29.84%", "29.84%", "ok")},
    ),
    "b023": (CASES / "b023.txt", REPLIES / "b023" / "reply.json", {("CHANGE", "40", "40", "ok")}),
    "b027": (CASES / "b027.txt", REPLIES / "b027" / "reply.json", {("SUM", "198007", "198007", "ok")}),
    "b027 variant": (
        REPLIES / "b027" / "variant.txt",
        REPLIES / "b027" / "variant-reply.json",
        {("SUM", "198107", "198007", "flag")},
    ),
}


def checks(out: Path) -> Counter[tuple[str, str, str, str]]:
    return Counter((r["check"], r["stated"], r["computed"], r["result"]) for r in rows(out / "checks.csv"))


def run(doc: Path, out: Path, reply: dict[str, Any] | None) -> None:
    src = out.with_name(out.name + "-in")
    src.mkdir()
    shutil.copy(doc, src / "report.txt")
    args = [str(src), "-o", str(out), "-q", "--fail-on", "never"]
    if reply is None:
        res = runner.invoke(app, [*args, "--extractor", "rules"])
    else:

        def respond(body: dict[str, Any]) -> Step:
            return Reply(reply)

        with FakeOpenAI(responder=respond) as srv:
            res = runner.invoke(
                app, [*args, "--model", "m", "--base-url", srv.base_url, "--no-cache"], env={"OPENAI_API_KEY": FAKE_KEY}
            )
            assert srv.count == 1  # one short document, one request
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_the_models_relation_reaches_the_working_paper(tmp_path: Path, case: str) -> None:
    doc, reply_file, model_only = EXPECTED[case]
    run(doc, tmp_path / "rules", None)
    run(doc, tmp_path / "model", json.loads(reply_file.read_text(encoding="utf-8")))
    rules, model = checks(tmp_path / "rules"), checks(tmp_path / "model")
    # Exactly the model's relations are added (b003's 29.84% is also a rules row: the same share restated
    # later, which the rules read there), and nothing the rules found is lost.
    assert model - rules == Counter(model_only) and not rules - model
    [report] = rows(tmp_path / "model" / "reports.csv")
    assert report["dropped"] == "0" and report["disagreements"] == "0"
    flagged = {(r["check"], r["stated"], r["computed"], "flag") for r in rows(tmp_path / "model" / "flags.csv")}
    assert flagged == {row for row in model_only if row[3] == "flag"}
