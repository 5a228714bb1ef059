"""The CLI as a user runs it: exit codes, --fail-on, output contract, bad input that never stops the run."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.report import safe_cell

from .conftest import FIXTURES, SEEDS

runner = CliRunner()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_clean_report_exits_zero(tmp_path: Path) -> None:
    res = runner.invoke(app, [str(FIXTURES / "checks" / "SUM" / "clean.txt"), "-o", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert rows(tmp_path / "flags.csv") == []
    assert rows(tmp_path / "reports.csv")[0]["status"] == "ok"


@pytest.mark.parametrize(("fail_on", "code"), [("error", 0), ("warning", 1), ("never", 0)])
def test_fail_on_levels_with_a_warning_only_report(tmp_path: Path, fail_on: str, code: int) -> None:
    res = runner.invoke(
        app, [str(FIXTURES / "checks" / "TARGET" / "fires.txt"), "-o", str(tmp_path), "-q", "--fail-on", fail_on]
    )
    assert res.exit_code == code


def test_errors_exit_one_unless_never(tmp_path: Path) -> None:
    case = str(FIXTURES / "checks" / "SUM" / "fires.txt")
    assert runner.invoke(app, [case, "-o", str(tmp_path), "-q"]).exit_code == 1
    assert runner.invoke(app, [case, "-o", str(tmp_path), "-q", "--fail-on", "never"]).exit_code == 0


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, [str(tmp_path / "nope"), "-o", str(tmp_path)])
    assert res.exit_code == 2


def test_every_file_failed_exits_three(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "empty.txt").write_bytes(b"")
    res = runner.invoke(app, [str(d), "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 3
    [row] = rows(tmp_path / "out" / "reports.csv")
    assert row["status"] == "failed" and row["detail"]


def test_bad_files_get_a_failed_row_and_the_rest_is_audited(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEEDS / "004_f69b799b5693d40d.txt", d)
    (d / "empty.txt").write_bytes(b"")
    (d / "corrupt.pdf").write_bytes(b"%PDF-1.4 garbage \x00\x01\x02")
    (d / "notes.xlsx").write_bytes(b"PK junk")
    (d / "fake.docx").write_text("not a zip", encoding="utf-8")
    res = runner.invoke(app, [str(d), "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 3  # some files failed: that outranks the good report's errors (exit 1)
    report = {r["file"]: r for r in rows(tmp_path / "out" / "reports.csv")}
    for bad in ("empty.txt", "corrupt.pdf", "fake.docx"):
        assert report[bad]["status"] == "failed"
        assert report[bad]["detail"] and "\n" not in report[bad]["detail"]
    assert "notes.xlsx" not in report  # other file types are skipped, not failed
    assert report["004_f69b799b5693d40d.txt"]["status"] == "flagged"


def test_formula_injection_guard() -> None:
    assert safe_cell("=SUM(A1)") == "'=SUM(A1)"
    assert safe_cell("+1+2") == "'+1+2"
    assert safe_cell("@cmd") == "'@cmd"
    assert safe_cell("-4.31") == "-4.31"
    assert safe_cell("-2.2%") == "-2.2%"
    assert safe_cell("\tx") == "'\tx"
    assert safe_cell("预算执行率") == "预算执行率"


def test_library_call_without_cli() -> None:
    from auditor import audit_path

    result = audit_path(SEEDS / "002_ea3c1a2ff2229891.txt")
    assert len(result.units) == 4
    assert [f.check for f in result.flags] == ["RATIO"]
    assert result.units[2].facts is not None and result.units[2].facts.ratios


def test_bad_input_fixtures_through_the_cli(tmp_path: Path) -> None:
    """Every bad fixture gets a failed row with its reason; the good files beside them are audited."""
    d = tmp_path / "in"
    shutil.copytree(FIXTURES / "bad", d)
    (d / "expected.csv").unlink()
    shutil.copy(SEEDS / "002_ea3c1a2ff2229891.txt", d)
    res = runner.invoke(app, [str(d), "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 3, res.output
    report: dict[str, list[dict[str, str]]] = {}
    for r in rows(tmp_path / "out" / "reports.csv"):
        report.setdefault(r["file"], []).append(r)
    for exp in rows(FIXTURES / "bad" / "expected.csv"):
        if exp["file"].endswith(".xlsx"):
            assert exp["file"] not in report  # not a report type: skipped and counted
            continue
        got = report[exp["file"]]
        if exp["file"] == "scanned.pdf" and shutil.which("tesseract"):
            assert got[0]["status"] in {"ok", "flagged"}  # OCR read it
            continue
        if exp["status"] == "failed":
            assert [g["status"] for g in got] == ["failed"], exp["file"]
            assert exp["reason_contains"] in got[0]["detail"], (exp["file"], got[0]["detail"])
        else:
            assert all(g["status"] in {"ok", "flagged", "unchecked"} for g in got), exp["file"]
    # The cover letter states no checkable number: unchecked, not ok.
    assert [g["status"] for g in report["002_ea3c1a2ff2229891.txt"]] == ["unchecked", "ok", "flagged", "ok"]


def test_a_cell_longer_than_excel_holds_is_cut_visibly() -> None:
    cell = safe_cell("=" + "长" * 40_000)
    assert len(cell) == 32767 and cell.startswith("'=") and cell.endswith("（已截断）")
    assert safe_cell("长" * 32767) == "长" * 32767  # exactly Excel's limit: kept whole
