"""Scoring check rows against labelled relations (../shared/labels convention): recall, coverage, stray flags."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError
from auditor.flags import Flag, Severity

_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _numbers(value: Any) -> set[Decimal]:
    """The numbers a `stated` value holds: 11, "8.83", [4, 4], "预算控制数 ≤541.87 ; actual 974.39"."""
    out: set[Decimal] = set()
    for m in _NUM.findall(json.dumps(value, ensure_ascii=False).replace(",", "")):
        try:
            out.add(Decimal(m).normalize())
        except InvalidOperation:
            continue
    return out


def _squeeze(s: str) -> str:
    return re.sub(r"[\s…]+", "", s)


def overlaps(flag: Flag, relation: dict[str, Any], n: int = 6) -> bool:
    """True when the flag's evidence and the relation's quotes share a run of `n` characters."""
    ev = _squeeze(flag.evidence)
    quotes = relation["quote"] if isinstance(relation["quote"], list) else [relation["quote"]]
    for q in quotes:
        q = _squeeze(q)
        if any(q[i : i + n] in ev for i in range(0, max(1, len(q) - n + 1))):
            return True
    return False


def _same_file(flag: Flag, relation: dict[str, Any]) -> bool:
    return Path(flag.file).name == relation["file"] or Path(flag.file).stem == Path(relation["file"]).stem


def matches(flag: Flag, relation: dict[str, Any]) -> bool:
    """Same file, and the flag's stated cell holds the relation's stated number."""
    if not _same_file(flag, relation):
        return False
    wanted = _numbers(relation["stated"])
    if not wanted:
        # A text relation states no number: the flag must point at its quote.
        return overlaps(flag, relation, n=12)
    return bool(_numbers(flag.stated) & wanted)


def points_at(row: Flag, relation: dict[str, Any]) -> bool:
    """A check row that verified this relation: it matches it and its evidence quotes the relation's text."""
    return matches(row, relation) and overlaps(row, relation)


@dataclass
class Kind:
    holding: int = 0
    covered: int = 0

    @property
    def coverage(self) -> float:
        return self.covered / self.holding if self.holding else 1.0


@dataclass
class Score:
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    found: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    # Flags that answer no labelled contradiction nor a debatable relation, with the holding relation they
    # contradict (None: a flag no relation matches, a false alarm or a missing label).
    false_alarms: list[tuple[Flag, dict[str, Any] | None]] = field(default_factory=list)
    debatable: list[tuple[Flag, dict[str, Any]]] = field(default_factory=list)
    flags: int = 0
    kinds: dict[str, Kind] = field(default_factory=dict)
    regions: dict[str, Kind] = field(default_factory=dict)
    uncovered: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.contradictions) if self.contradictions else 1.0

    @property
    def holding(self) -> int:
        return sum(k.holding for k in self.kinds.values())

    @property
    def covered(self) -> int:
        return sum(k.covered for k in self.kinds.values())

    @property
    def coverage(self) -> float:
        return self.covered / self.holding if self.holding else 1.0

    def figures(self) -> dict[str, Any]:
        """The numbers for scripts and the CI floor (`audit eval --json`)."""

        def kinds(d: dict[str, Kind]) -> dict[str, Any]:
            return {
                k: {"holding": v.holding, "covered": v.covered, "coverage": round(v.coverage, 4)}
                for k, v in sorted(d.items())
            }

        return {
            "contradictions": len(self.contradictions),
            "found": len(self.found),
            "recall": round(self.recall, 4),
            "false_alarms": len(self.false_alarms),
            "debatable_flags": len(self.debatable),
            "flags": self.flags,
            "holding": self.holding,
            "covered": self.covered,
            "coverage": round(self.coverage, 4),
            "by_kind": kinds(self.kinds),
            "by_region": kinds(self.regions),
        }


def load_labels(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"无法读取标注文件 {path.name}：{exc}") from exc


def score(rows: list[Flag], labels: list[dict[str, Any]], files: set[str] | None = None) -> Score:
    """Recall over `holds: false` relations, coverage of `holds: true` ones, and every stray flag.

    `rows` are the check rows of the run (checks.csv); the error and warning rows among them are the flags.
    """
    live = [f for f in rows if f.flagged and f.severity in (Severity.ERROR, Severity.WARNING)]
    names = {Path(f).name for f in files} if files is not None else None
    result = Score(flags=len(live))
    labels = [r for r in labels if names is None or r["file"] in names]
    answered: set[int] = set()  # flags that answer a contradiction
    debatable: dict[int, dict[str, Any]] = {}
    for rel in labels:
        hits = [f for f in live if matches(f, rel)]
        if rel.get("holds") is False:
            result.contradictions.append(rel)
            (result.found if hits else result.missed).append(rel)
            answered.update(id(f) for f in hits)
        elif rel.get("holds") is None:
            for f in hits:
                debatable.setdefault(id(f), rel)
    by_file: dict[str, list[Flag]] = {}
    for row in rows:
        by_file.setdefault(Path(row.file).name, []).append(row)
    for rel in labels:
        if rel.get("holds") is not True:
            continue
        covered = any(points_at(r, rel) for r in by_file.get(rel["file"], ()))
        for bucket in (result.kinds.setdefault(rel["kind"], Kind()),) + (
            (result.regions.setdefault(rel["where"], Kind()),) if rel.get("where") else ()
        ):
            bucket.holding += 1
            bucket.covered += covered
        if not covered:
            result.uncovered.append(rel)
    for f in live:
        if id(f) in answered:
            continue
        if id(f) in debatable:
            result.debatable.append((f, debatable[id(f)]))
            continue
        holding = next((r for r in labels if r.get("holds") is True and points_at(f, r)), None)
        result.false_alarms.append((f, holding))
    return result
