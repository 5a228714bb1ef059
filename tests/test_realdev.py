"""The real development corpus as a tracked figure: recall, coverage and stray flags against a committed floor.

fixtures/realdev/ is a copy of ../shared/realdev/ (65 real excerpts and their labelled relations), so the figure
is measured in any clone. fixtures/realdev/figures.json holds the committed figures; a change that makes any of
them worse fails here, and so does one that makes them better until the file is raised to the new figures.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import eval_app

from .conftest import FIXTURES

REALDEV = FIXTURES / "realdev"
FIGURES = REALDEV / "figures.json"


def run_eval(tmp_path: Path) -> dict:
    res = CliRunner().invoke(
        eval_app, [str(REALDEV / "labels.jsonl"), str(REALDEV / "cases"), "-o", str(tmp_path), "--json"]
    )
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def test_realdev_figures_equal_the_committed_ones(tmp_path: Path) -> None:
    got = run_eval(tmp_path)
    want = json.loads(FIGURES.read_text(encoding="utf-8"))
    assert got["holding"] == want["holding"], "the labels changed: re-copy ../shared/realdev and re-measure"
    worse, better = [], []
    for key, higher_is_better in (("found", True), ("covered", True), ("false_alarms", False)):
        g, w = got[key], want[key]
        if g != w:
            (better if (g > w) == higher_is_better else worse).append(f"{key}: {w} -> {g}")
    for region, fig in want["by_region"].items():
        g = got["by_region"].get(region, {}).get("covered", 0)
        if g != fig["covered"]:
            (better if g > fig["covered"] else worse).append(f"{region} covered: {fig['covered']} -> {g}")
    stray = "\n".join(
        f"  {f['file']} {f['check']} {f['stated']}: {f['evidence'][:60]}" for f in got["false_alarm_flags"]
    )
    assert not worse, "worse on the real corpus: " + "; ".join(worse) + "\n" + stray
    assert not better, "better on the real corpus: raise fixtures/realdev/figures.json: " + "; ".join(better)


def test_every_stray_flag_is_listed_with_its_evidence(tmp_path: Path) -> None:
    got = run_eval(tmp_path)
    assert len(got["false_alarm_flags"]) == got["false_alarms"]
    for f in got["false_alarm_flags"]:
        text = (REALDEV / "cases" / f["file"]).read_text(encoding="utf-8")
        first = f["evidence"].split(" … ")[0]
        assert " ".join(first.split())[:20] in " ".join(text.split())
