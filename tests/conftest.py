"""Shared fixtures; also makes a run that collected no test fail instead of passing silently."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SEEDS = FIXTURES / "seeds"
# A copy of ../shared/labels/seeds.jsonl, so the evaluation runs wherever the repo is cloned.
LABELS = FIXTURES / "labels" / "seeds.jsonl"


def rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV the command wrote (UTF-8 with BOM), as dicts by column."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, as a user or a script starts it (stderr is a pipe)."""
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, timeout=300, check=False
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def seeds() -> Path:
    return SEEDS
