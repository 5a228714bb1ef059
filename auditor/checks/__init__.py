"""Checks: pure functions from Facts to Flags, registered by id. No I/O, no LLM."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from auditor.facts import Facts
from auditor.flags import Flag, Severity

CheckFn = Callable[[Facts], Iterable[Flag]]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    severity: Severity
    fn: CheckFn

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()


REGISTRY: dict[str, CheckSpec] = {}


def register(check_id: str, severity: Severity) -> Callable[[CheckFn], CheckFn]:
    """Register a check under its stable id with its usual severity."""

    def deco(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = CheckSpec(check_id, severity, fn)
        return fn

    return deco


def run_checks(facts: Facts) -> list[Flag]:
    """All registered checks over one Unit's Facts, in registry order."""
    rows: list[Flag] = []
    for spec in REGISTRY.values():
        rows.extend(spec.fn(facts))
    return rows


# Importing the modules fills the registry; each check lives in its own file.
from auditor.checks import (  # noqa: E402
    balance,
    change,
    claim,
    duplicate,
    exec_rate,
    fund_name,
    grade,
    grounding,
    product,
    ratio,
    score_range,
    score_sum,
    sum,
    target,
)

__all__ = [
    "REGISTRY",
    "CheckSpec",
    "balance",
    "change",
    "claim",
    "duplicate",
    "exec_rate",
    "fund_name",
    "grade",
    "grounding",
    "product",
    "ratio",
    "register",
    "run_checks",
    "score_range",
    "score_sum",
    "sum",
    "target",
]
