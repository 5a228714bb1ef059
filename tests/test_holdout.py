"""Holdout: ten hand-written reports from other regions, years, departments and layouts.

Each report in fixtures/holdout/ has a `<file>.expected.csv` (check,severity,stated,why) listing the
contradictions planted in it (h08 and h09 are clean).  The arithmetic behind every planted and every
consistent relation is in fixtures/holdout/check_arithmetic.py.

A flag (error or warning; info is ignored) matches an expected row when the check ids are equal and the
stated numbers are equal after normalising thousands separators, spaces and units ("18,645.30" == "18645.30",
"2.96万人" == "2.96"; "%" is kept).  An expected row with no matching flag is a miss; a flag that matches no
expected row is a false alarm (several flags may match the same row).

This measures how the extractor generalises; it does not gate CI.  For a readable per-report listing and the
overall figures run:  python -m tests.test_holdout   (or pytest tests/test_holdout.py -rxX -s)
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from auditor.audit import audit_path

# These ten reports were written blind (by someone who had not read the extractor) and first caught
# 10 of 17 planted contradictions with 10 false alarms; the fixes made them a regression suite.

HOLDOUT = Path(__file__).resolve().parents[1] / "fixtures" / "holdout"
SUFFIX = ".expected.csv"
REPORTS = sorted(p.name.removesuffix(SUFFIX) for p in HOLDOUT.glob(f"*{SUFFIX}"))

_NUM = re.compile(r"[-+−]?\d+(?:\.\d+)?%?")


def norm(stated: str) -> str:
    """The number as written, without thousands separators, spaces or units; non-numbers unchanged."""
    s = unicodedata.normalize("NFKC", stated).strip().replace(",", "").replace(" ", "")
    m = _NUM.match(s)
    if not m:
        return s
    num = m.group(0).replace("−", "-")
    return num


def same_number(a: str, b: str) -> bool:
    """Equal as written, or the same value written with other trailing zeros ("18645.3" vs "18645.30")."""
    if a == b:
        return True
    if not (_NUM.fullmatch(a) and _NUM.fullmatch(b)) or a.endswith("%") != b.endswith("%"):
        return False
    return Decimal(a.rstrip("%")) == Decimal(b.rstrip("%"))


@dataclass
class Expected:
    check: str
    severity: str
    stated: str
    why: str

    def matches(self, check: str, stated: str) -> bool:
        return check == self.check and same_number(norm(stated), norm(self.stated))


@dataclass
class Outcome:
    name: str
    expected: list[Expected]
    found: list[tuple[Expected, list[str]]] = field(default_factory=list)
    misses: list[Expected] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not (self.misses or self.false_alarms or self.error)

    def render(self) -> str:
        head = f"{self.name}: planted {len(self.expected)}, found {len(self.found)}, " + (
            f"misses {len(self.misses)}, false alarms {len(self.false_alarms)}"
        )
        lines = [head]
        if self.error:
            lines.append(f"  ERROR {self.error}")
        for e in self.misses:
            lines.append(f"  MISS  {e.check} {e.severity} stated={e.stated!r}  ({e.why})")
        for fa in self.false_alarms:
            lines.append(f"  FALSE {fa}")
        for n in self.notes:
            lines.append(f"  note  {n}")
        return "\n".join(lines)


def read_expected(name: str) -> list[Expected]:
    with (HOLDOUT / f"{name}{SUFFIX}").open(encoding="utf-8-sig", newline="") as fh:
        return [Expected(r["check"], r["severity"], r["stated"], r["why"]) for r in csv.DictReader(fh)]


def describe(f) -> str:  # type: ignore[no-untyped-def]
    ev = " ".join((f.evidence or "").split())
    if len(ev) > 160:
        ev = ev[:157] + "…"
    return f"{f.check} {f.severity.value} stated={f.stated!r} computed={f.computed!r} | {f.message} | evidence: {ev}"


@cache
def outcome(name: str) -> Outcome:
    expected = read_expected(name)
    out = Outcome(name, expected)
    try:
        flags = [f for f in audit_path(HOLDOUT / name).flags if f.severity.value != "info"]
    except Exception as exc:  # a crash is a result too
        out.error = f"{type(exc).__name__}: {exc}"
        out.misses = list(expected)
        return out
    matched: dict[int, list[str]] = {}
    for f in flags:
        hits = [i for i, e in enumerate(expected) if e.matches(f.check, f.stated)]
        if not hits:
            out.false_alarms.append(describe(f))
            continue
        for i in hits:
            matched.setdefault(i, []).append(describe(f))
            if norm(f.stated) != norm(expected[i].stated):
                out.notes.append(f"{f.check} stated written {f.stated!r}, report has {expected[i].stated!r}")
            if expected[i].severity != f.severity.value:
                out.notes.append(
                    f"{f.check} stated={f.stated!r}: severity {f.severity.value}, expected {expected[i].severity}"
                )
    for i, e in enumerate(expected):
        if i in matched:
            out.found.append((e, matched[i]))
        else:
            out.misses.append(e)
    return out


def totals() -> dict[str, float]:
    outs = [outcome(n) for n in REPORTS]
    planted = sum(len(o.expected) for o in outs)
    found = sum(len(o.found) for o in outs)
    clean = [o for o in outs if not o.expected]
    return {
        "reports": len(outs),
        "planted": planted,
        "found": found,
        "recall": found / planted if planted else 1.0,
        "false_alarms": sum(len(o.false_alarms) for o in outs),
        "clean_reports": len(clean),
        "clean_flagged": sum(bool(o.false_alarms) for o in clean),
        "errors": sum(bool(o.error) for o in outs),
    }


def summary() -> str:
    t = totals()
    body = "\n".join(outcome(n).render() for n in REPORTS)
    return (
        f"{body}\n\nholdout: reports={t['reports']} planted={t['planted']} found={t['found']} "
        f"recall={t['recall']:.2f} false_alarms={t['false_alarms']} "
        f"clean_flagged={t['clean_flagged']}/{t['clean_reports']} crashed={t['errors']}"
    )


def test_holdout_is_complete() -> None:
    assert len(REPORTS) == 10
    for name in REPORTS:
        assert (HOLDOUT / name).is_file(), name
    assert sum(not read_expected(n) for n in REPORTS) == 2, "two holdout reports are clean"


@pytest.mark.parametrize("name", REPORTS)
def test_holdout_report(name: str) -> None:
    out = outcome(name)
    print(out.render())
    assert out.ok, "\n" + out.render()


def test_holdout_overall() -> None:
    text = summary()
    print("\n" + text)
    t = totals()
    assert t["found"] == t["planted"] and t["false_alarms"] == 0 and t["clean_flagged"] == 0, "\n" + text


if __name__ == "__main__":
    print(summary())
