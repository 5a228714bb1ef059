"""The real CLI on the seed reports: the flags must equal the hand-checked expected files."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LABELS, SEEDS

AUDIT = [sys.executable, "-c", "from auditor.cli import main; main()"]


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} lacks the UTF-8 BOM Excel needs"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def flag_keys(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str, str]]:
    return sorted((r["file"], r["check"], r["severity"], r["stated"], r["computed"]) for r in rows)


def expected_flags(folder: Path) -> list[tuple[str, str, str, str, str]]:
    out = []
    for exp in sorted(folder.glob("*.expected.csv")):
        name = exp.name.removesuffix(".expected.csv")
        with exp.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                out.append((name, r["check"], r["severity"], r["stated"], r["computed"]))
    return sorted(out)


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("out")
    proc = subprocess.run([*AUDIT, str(SEEDS), "-o", str(out)], capture_output=True, text=True, check=False)
    return proc, out


def test_seed_flags_equal_expected(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = seed_run
    assert proc.returncode == 1, proc.stderr  # errors were found, default --fail-on error
    assert flag_keys(read_csv(out / "flags.csv")) == expected_flags(SEEDS)


def test_reports_csv_has_one_row_per_unit(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = seed_run
    rows = read_csv(out / "reports.csv")
    per_file = {}
    for r in rows:
        per_file[r["file"]] = per_file.get(r["file"], 0) + 1
        assert r["extractor"] == "rules"
        # ok and flagged promise that something was checked; the cover letters state no checkable number.
        if r["status"] == "unchecked":
            assert r["checked"] == "0" and not r["unit"].startswith("附件"), r
        else:
            assert r["status"] in {"ok", "flagged"} and int(r["checked"]) > 0 and int(r["facts"]) > 0, r
    assert [r["status"] for r in rows if r["file"].startswith(("002", "004"))] == [
        "unchecked",
        "ok",
        "flagged",
        "ok",
        "unchecked",
        "flagged",
    ]
    # 002 bundles a cover letter and three 附件; 003 three 自评表; 004 a cover letter and the report.
    assert per_file == {
        "000_76de77d70b614fce.txt": 1,
        "001_58accd15f871133c.txt": 1,
        "002_ea3c1a2ff2229891.txt": 4,
        "003_ff45a6316085bfcc.txt": 3,
        "004_f69b799b5693d40d.txt": 2,
    }


def test_every_flag_quotes_the_document(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = seed_run
    for r in read_csv(out / "flags.csv"):
        text = (SEEDS / r["file"]).read_text(encoding="utf-8")
        start, end = int(r["start"]), int(r["end"])
        first = r["evidence"].split(" … ")[0]
        assert " ".join(text[start:end].split()) == first
        assert r["message"] and r["stated"] and r["computed"]


def test_flags_never_mix_units(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = seed_run
    rows = read_csv(out / "flags.csv")
    units = {(r["file"], r["unit"]) for r in read_csv(out / "reports.csv")}
    assert all((r["file"], r["unit"]) in units for r in rows)


def test_eval_finds_every_numeric_contradiction_without_false_alarms(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*AUDIT, "eval", str(LABELS), str(SEEDS), "-o", str(tmp_path)], capture_output=True, text=True, check=False
    )
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("contradictions=10 found=10 recall=1.00 false_alarms=0"), proc.stdout
    assert not [ln for ln in lines if ln.startswith(("漏报", "误报"))]


def test_the_console_script_is_installed() -> None:
    exe = shutil.which("audit")
    assert exe is not None, "pip install -e . should install the audit command"
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "--fail-on" in proc.stdout


def test_every_flag_has_its_flag_row_in_checks_csv(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = seed_run
    checks = read_csv(out / "checks.csv")
    assert list(checks[0]) == [*read_csv(out / "flags.csv")[0].keys(), "result", "formula"]
    flagged = [{k: v for k, v in r.items() if k not in ("result", "formula")} for r in checks if r["result"] == "flag"]
    assert flagged == read_csv(out / "flags.csv")
    assert {r["result"] for r in checks} == {"ok", "flag"}
    for r in checks:
        assert r["formula"] and r["message"], r
        # A tick is not a finding: it carries no severity.
        assert (r["severity"] == "") == (r["result"] == "ok"), r


def test_checked_counts_the_rows_of_checks_csv(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = seed_run
    per_unit: dict[tuple[str, str], int] = {}
    for r in read_csv(out / "checks.csv"):
        per_unit[(r["file"], r["unit"])] = per_unit.get((r["file"], r["unit"]), 0) + 1
    for r in read_csv(out / "reports.csv"):
        assert int(r["checked"]) == per_unit.get((r["file"], r["unit"]), 0), r


def test_passed_checks_are_the_arithmetic_that_holds(seed_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = seed_run
    ticks = {
        (r["file"], r["check"], r["stated"], r["computed"]) for r in read_csv(out / "checks.csv") if r["result"] == "ok"
    }
    # Hand-checked relations of seed 000: 465.41 ÷ (77.40 + 437) = 90.48%; 77.40 + 437 − 465.41 = 48.99.
    assert ("000_76de77d70b614fce.txt", "EXEC_RATE", "90.48%", "90.48%") in ticks
    assert ("000_76de77d70b614fce.txt", "BALANCE", "48.99", "48.99") in ticks
