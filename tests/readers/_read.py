"""Run one named reader on a text and show its Facts compactly, for the readers' table tests."""

from __future__ import annotations

from pathlib import Path

from auditor.documents import Document
from auditor.extract.rules import read
from auditor.facts import Facts, Quantity, ScoreNode
from auditor.grounding import ground
from auditor.texttables import find_tables
from auditor.units import Unit


def facts(text: str, *readers: str, year: str = "") -> Facts:
    """The grounded Facts the named readers find in `text` (one Unit; tables as tab-separated lines)."""
    doc = Document(path=Path("case.txt"), text=text, tables=tuple(find_tables(text)))
    unit = Unit(doc, 0, "", "", year, 0, len(text))
    out = ground(read(unit, list(readers)), unit)
    assert out.dropped == 0, "a reader produced a value that is not in the text"
    return out


def q(x: Quantity | None) -> str | None:
    """A quantity as written with its unit: '465.41万元', '90.48%'."""
    return None if x is None else f"{x.text}{x.unit}"


def tree(nodes: list[ScoreNode]) -> list[tuple]:
    """(name, weight, score, children) of each node, recursively."""
    return [(n.name, q(n.max_score), q(n.score), tree(n.children)) for n in nodes]
