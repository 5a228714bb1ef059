"""Meta-test: every check of the design exists, is documented, and has a firing and a clean fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.audit import audit_path
from auditor.checks import REGISTRY, run_checks
from auditor.documents import load
from auditor.facts import Facts
from auditor.flags import Severity
from auditor.grounding import ground
from auditor.units import split

from .conftest import FIXTURES

DESIGN_IDS = {
    "EXEC_RATE": Severity.ERROR,
    "RATIO": Severity.ERROR,
    "SUM": Severity.ERROR,
    "BALANCE": Severity.ERROR,
    "CHANGE": Severity.ERROR,
    "SCORE_SUM": Severity.ERROR,
    "SCORE_RANGE": Severity.ERROR,
    "GRADE": Severity.ERROR,
    "TARGET": Severity.WARNING,
    "DUPLICATE": Severity.ERROR,
    "GROUNDING": Severity.INFO,
}
# Checks beyond the design table: text contradictions rules can see without false alarms, and products
# (人数 × 标准, a column formula ⑧=④*⑦) that no design check computes.
EXTENSIONS = {"FUND_NAME": Severity.WARNING, "CLAIM": Severity.WARNING, "PRODUCT": Severity.ERROR}
ALL_IDS = DESIGN_IDS | EXTENSIONS


def test_registry_matches_design_table() -> None:
    assert set(REGISTRY) == set(ALL_IDS)
    for check_id, spec in REGISTRY.items():
        assert spec.severity == ALL_IDS[check_id]
        assert spec.doc, f"{check_id} has no docstring"
        assert len(spec.doc.split(". ")) <= 3


def _flags(case: Path) -> list[str]:
    facts_file = case.with_suffix(".facts.json")
    if facts_file.exists():
        unit = split(load(case))[0]
        facts = ground(Facts.model_validate(json.loads(facts_file.read_text(encoding="utf-8"))), unit)
        return [f.check for f in run_checks(facts) if f.flagged]
    return [f.check for f in audit_path(case).flags]


@pytest.mark.parametrize("check_id", sorted(ALL_IDS))
def test_each_check_fires_on_its_fixture(check_id: str) -> None:
    assert check_id in _flags(FIXTURES / "checks" / check_id / "fires.txt")


@pytest.mark.parametrize("check_id", sorted(ALL_IDS))
def test_each_check_stays_quiet_on_its_clean_fixture(check_id: str) -> None:
    assert _flags(FIXTURES / "checks" / check_id / "clean.txt") == []
