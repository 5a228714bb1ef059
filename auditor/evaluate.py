"""Scoring flags against labelled relations (../shared/labels convention)."""

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


def matches(flag: Flag, relation: dict[str, Any]) -> bool:
    """Same file, and the flag's stated cell holds the relation's stated number."""
    if Path(flag.file).name != relation["file"] and Path(flag.file).stem != Path(relation["file"]).stem:
        return False
    wanted = _numbers(relation["stated"])
    if not wanted:
        # A text relation states no number: the flag must point at its quote.
        return overlaps(flag, relation, n=12)
    return bool(_numbers(flag.stated) & wanted)


@dataclass
class Score:
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    found: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_alarms: list[tuple[Flag, dict[str, Any]]] = field(default_factory=list)
    flags: int = 0

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.contradictions) if self.contradictions else 1.0


def load_labels(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"无法读取标注文件 {path.name}：{exc}") from exc


def score(flags: list[Flag], labels: list[dict[str, Any]], files: set[str] | None = None) -> Score:
    """Recall over `holds: false` relations and false alarms on `holds: true` ones (errors and warnings)."""
    live = [f for f in flags if f.severity in (Severity.ERROR, Severity.WARNING)]
    names = {Path(f).name for f in files} if files is not None else None
    result = Score(flags=len(live))
    labels = [r for r in labels if names is None or r["file"] in names]
    explained: set[int] = set()
    for rel in labels:
        hits = [f for f in live if matches(f, rel)]
        if rel.get("holds") is False:
            result.contradictions.append(rel)
            (result.found if hits else result.missed).append(rel)
        if rel.get("holds") is not True:
            explained.update(id(f) for f in hits)
    # A flag that answers a contradiction (or a debatable relation) is not a false alarm even when a
    # relation that holds happens to state the same number; otherwise it is one when it points at it.
    for rel in labels:
        if rel.get("holds") is True:
            result.false_alarms.extend(
                (f, rel) for f in live if id(f) not in explained and matches(f, rel) and overlaps(f, rel)
            )
    return result
