"""Shared fixtures; also makes a run that collected no test fail instead of passing silently."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SEEDS = FIXTURES / "seeds"
# A copy of ../shared/labels/seeds.jsonl, so the evaluation runs wherever the repo is cloned.
LABELS = FIXTURES / "labels" / "seeds.jsonl"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def seeds() -> Path:
    return SEEDS
