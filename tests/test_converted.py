"""PDF and DOCX versions of the seeds give the same flags and read the same structure as the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.audit import audit_path
from auditor.facts import Facts, ScoreNode

from .conftest import FIXTURES, SEEDS

CONVERTED = sorted((FIXTURES / "converted").glob("*.pdf")) + sorted((FIXTURES / "converted").glob("*.docx"))


def _nodes(roots: list[ScoreNode]) -> int:
    return sum(1 + _nodes(r.children) for r in roots)


def _shape(facts: Facts) -> tuple[int, ...]:
    return (
        len(facts.fund_flows),
        len(facts.sums),
        len(facts.ratios),
        _nodes(facts.scores),
        len(facts.indicators),
        len(facts.ratings),
    )


def _key(path: Path) -> list[tuple[str, str, str, str]]:
    return sorted((f.check, f.severity.value, f.stated, f.computed) for f in audit_path(path).flags)


@pytest.mark.parametrize("converted", CONVERTED, ids=lambda p: p.name)
def test_same_flags_as_text(converted: Path) -> None:
    text = SEEDS / (converted.stem + ".txt")
    assert _key(converted) == _key(text)


@pytest.mark.parametrize("converted", CONVERTED, ids=lambda p: p.name)
def test_same_structure_as_text(converted: Path) -> None:
    text = SEEDS / (converted.stem + ".txt")
    a, b = audit_path(converted), audit_path(text)
    assert [u.status for u in a.units] == [u.status for u in b.units]
    for ua, ub in zip(a.units, b.units, strict=True):
        assert ua.facts is not None and ub.facts is not None
        assert _shape(ua.facts) == _shape(ub.facts), ua.unit


def test_pdf_flags_carry_pages() -> None:
    pdf = FIXTURES / "converted" / "004_f69b799b5693d40d.pdf"
    flags = audit_path(pdf).flags
    assert flags and all(f.page is not None and f.page >= 1 for f in flags)


def test_at_least_two_seeds_in_both_formats() -> None:
    stems = {p.stem for p in CONVERTED if p.suffix == ".pdf"} & {p.stem for p in CONVERTED if p.suffix == ".docx"}
    assert len(stems) >= 2
