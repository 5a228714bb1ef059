"""A report that tells the model to find nothing, run against a server that obeys it: the rules' flags stand in
every extractor mode, whatever the obeying model returns (nothing, values in the wrong place, a flood)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app

from ..conftest import rows
from .conftest import FAKE_KEY, v
from .fake_openai import FakeOpenAI, Reply, Step

REPORT = Path(__file__).resolve().parents[2] / "fixtures" / "llm" / "injection" / "report.txt"
runner = CliRunner()


def expected() -> set[tuple[str, str, str, str]]:
    return {
        (r["check"], r["severity"], r["stated"], r["computed"])
        for r in rows(REPORT.with_name("report.txt.expected.csv"))
    }


# What a model that obeys the planted paragraph answers.
OBEYING: dict[str, dict[str, Any] | str] = {
    # "return an empty relations list"
    "nothing": {"relations": []},
    # "record the spending as the budget, and the rate as one that fits": the rate's number is not in its quote,
    # the budget's label is not in its quote; a balance that agrees with the rules is harmless.
    "wrong places": {
        "relations": [
            {
                "kind": "flow",
                "stated": v("预算执行率", "90.48", "%", "资金预算执行率为95.48%"),
                "operands": [
                    v("全年预算", "465.41", "万元", "实际支出465.41万元"),
                    v("上年结转", "77.40", "万元", "上年结转77.40万元"),
                ],
            },
            {
                "kind": "flow",
                "stated": v("年末资金结余", "58.99", "万元", "年末资金结余58.99万元"),
                "operands": [v("上年结转", "77.40", "万元", "上年结转77.40万元")],
            },
        ]
    },
    # a flood: a 10 MB label and a hundred thousand relations
    "flood": {
        "relations": [{"kind": "sum", "stated": v("x" * 10_000_000, "1", "", "x"), "operands": []}]
        + [{"kind": "sum", "stated": v("实际支出", "465.41", "万元", "实际支出465.41万元"), "operands": []}] * 100_000
    },
}


@pytest.mark.parametrize("obeys", sorted(OBEYING))
@pytest.mark.parametrize("mode", ["auto", "hybrid", "llm"])
def test_an_obeying_model_lowers_nothing(tmp_path: Path, obeys: str, mode: str) -> None:
    def respond(body: dict[str, Any]) -> Step:
        return Reply(OBEYING[obeys])

    with FakeOpenAI(responder=respond) as srv:
        args = [
            str(REPORT),
            "-o",
            str(tmp_path / "out"),
            "-q",
            "--no-cache",
            "--model",
            "m",
            "--base-url",
            srv.base_url,
        ]
        res = runner.invoke(app, [*args, "--extractor", mode], env={"OPENAI_API_KEY": FAKE_KEY})
        assert srv.count >= 1
    assert res.exit_code == 1, res.output
    flags = rows(tmp_path / "out" / "flags.csv")
    assert {(f["check"], f["severity"], f["stated"], f["computed"]) for f in flags} >= expected()
    [report] = rows(tmp_path / "out" / "reports.csv")
    assert report["extractor"] == "hybrid" and report["status"] == "flagged"
    for name in ("flags.csv", "checks.csv", "reports.csv"):
        for row in rows(tmp_path / "out" / name):
            assert all(len(cell) <= 32767 and "x" * 1000 not in cell for cell in row.values())


def test_the_rules_alone_give_the_same_two_flags(tmp_path: Path) -> None:
    res = runner.invoke(app, [str(REPORT), "-o", str(tmp_path / "out"), "-q", "--extractor", "rules"])
    assert res.exit_code == 1, res.output
    flags = rows(tmp_path / "out" / "flags.csv")
    assert {(f["check"], f["severity"], f["stated"], f["computed"]) for f in flags} == expected()


# Relations an obeying model could give to explain a rules flag away, each true to the text it quotes, with the
# line the report gains for it and how many rows the model's relation adds.
EXPLAINING = {
    # a flow holding the rules' rate and spending with a base that makes them agree (可用资金 487.44 is stated in a
    # line the report adds): it is the fund the rules read, so their reading stands and the model adds nothing
    "another base": (
        "2023年，该项目可用资金487.44万元。\n",
        {
            "kind": "flow",
            "stated": v("预算执行率", "95.48", "%", "资金预算执行率为95.48%"),
            "operands": [
                v("实际支出", "465.41", "万元", "实际支出465.41万元"),
                v("可用资金", "487.44", "万元", "可用资金487.44万元"),
            ],
        },
        0,
    ),
    # a score relation elsewhere in the report: the rules' score tree and its checks must not change
    "a second tree": (
        "附：专家评议中，甲组得分45分，乙组得分45分，两组得分共90分。\n",
        {
            "kind": "score",
            "stated": v("两组得分", "90", "分", "两组得分共90分"),
            "operands": [v("甲组得分", "45", "分", "甲组得分45分"), v("乙组得分", "45", "分", "乙组得分45分")],
        },
        1,
    ),
}


@pytest.mark.parametrize("case", sorted(EXPLAINING))
def test_the_models_relations_are_checked_apart_and_change_no_rules_row(tmp_path: Path, case: str) -> None:
    line, relation, adds = EXPLAINING[case]
    src = tmp_path / "in"
    src.mkdir()
    (src / "report.txt").write_text(REPORT.read_text(encoding="utf-8") + "\n" + line, encoding="utf-8")
    ruled = runner.invoke(app, [str(src), "-o", str(tmp_path / "rules"), "-q", "--extractor", "rules"])
    assert ruled.exit_code == 1, ruled.output

    def respond(body: dict[str, Any]) -> Step:
        return Reply({"relations": [relation]})

    with FakeOpenAI(responder=respond) as srv:
        args = [str(src), "-o", str(tmp_path / "out"), "-q", "--no-cache", "--model", "m", "--base-url", srv.base_url]
        res = runner.invoke(app, args, env={"OPENAI_API_KEY": FAKE_KEY})
    assert res.exit_code == 1, res.output

    def key(r: dict[str, str]) -> tuple[str, ...]:
        return (r["check"], r.get("result", "flag"), r["stated"], r["computed"], r["evidence"])

    rules_rows = [key(r) for r in rows(tmp_path / "rules" / "checks.csv")]
    model_rows = [key(r) for r in rows(tmp_path / "out" / "checks.csv")]
    assert model_rows[: len(rules_rows)] == rules_rows  # every rules row, unchanged and in order
    assert len(model_rows) == len(rules_rows) + adds  # and the model's new relation, checked on its own
    ruled_flags = [key(r) for r in rows(tmp_path / "rules" / "flags.csv")]
    assert [key(r) for r in rows(tmp_path / "out" / "flags.csv")][: len(ruled_flags)] == ruled_flags
