"""Prose fixtures: one small report per sentence shape, clean and with one planted error (fixtures/prose/).

They were written blind (without reading the readers) in the shapes real reports use; expected.csv lists what
each err file breaks (file,check,severity,stated,why) and fixtures/prose/check_arithmetic.py redoes every
relation. The flags of each file (errors and warnings, by check and stated number) must equal its expected
rows; a clean file and a trap get none. A failure is a finding about the readers, not a reason to edit
expected.csv. First run, before the fixes it prompted: 16 of 18 planted errors found, one clean file flagged.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.audit import audit_path

from .conftest import FIXTURES

PROSE = FIXTURES / "prose"
FILES = sorted(PROSE.glob("*.txt"))


def norm(stated: str) -> str:
    s = stated.replace(",", "").replace("%", "").replace("％", "").strip().lstrip("'")
    m = re.match(r"-?\d+(?:\.\d+)?", s)
    return str(Decimal(m.group(0)).normalize()) if m else s


def expected() -> dict[str, set[tuple[str, str, str]]]:
    out: dict[str, set[tuple[str, str, str]]] = {}
    with (PROSE / "expected.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["file"], set()).add((r["check"], r["severity"], norm(r["stated"])))
    return out


def test_every_shape_has_a_clean_and_an_err_file() -> None:
    shapes = {p.name.rsplit("_", 1)[0] for p in FILES if not p.name.startswith("trap_")}
    assert len(shapes) >= 18
    for shape in shapes:
        assert (PROSE / f"{shape}_clean.txt").exists() and (PROSE / f"{shape}_err.txt").exists(), shape
        assert f"{shape}_err.txt" in expected(), shape


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_prose_flags_equal_expected(path: Path) -> None:
    got = {
        (f.check, f.severity.value, norm(f.stated))
        for f in audit_path(path).flags
        if f.severity.value in ("error", "warning")
    }
    assert got == expected().get(path.name, set())
