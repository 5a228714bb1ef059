"""The deterministic rules extractor: readers registered by name, one module per fact family.

Each reader takes the Unit's blocks (paragraphs and tables) and returns the Facts it found; the extractor
concatenates them in registry order. Readers read labels, units and table headers, never one document's
sentences; evidence carries document offsets and grounding fills in the quotes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auditor import layout
from auditor.extract import ExtractResult
from auditor.facts import Facts
from auditor.layout import Para, Paras, Table
from auditor.units import Unit


@dataclass
class Context:
    """What every reader sees of one Unit, plus a memo for what one reader computes for another."""

    unit: Unit
    paras: list[Para]
    tables: list[Table]
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def fund(self) -> str:
        return self.unit.fund

    @property
    def year(self) -> str:
        return self.unit.year

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """A value computed once per Unit and shared between readers (e.g. the prose score items)."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]


Reader = Callable[[Context], Facts]
READERS: dict[str, Reader] = {}


def register(name: str) -> Callable[[Reader], Reader]:
    """Register a reader under a stable name ("family.shape"); the registry order is the order of the Facts."""

    def deco(fn: Reader) -> Reader:
        if name in READERS:
            raise ValueError(f"reader {name} registered twice")
        READERS[name] = fn
        return fn

    return deco


def context(unit: Unit) -> Context:
    blocks = layout.blocks(unit.text, unit.start, unit.tables)
    return Context(
        unit=unit,
        paras=Paras(b for b in blocks if isinstance(b, Para)),
        tables=[b for b in blocks if isinstance(b, Table)],
    )


def read(unit: Unit, names: list[str] | None = None) -> Facts:
    """The Facts of a Unit from the named readers (all of them by default), merged in registry order."""
    ctx = context(unit)
    out = Facts(fund=unit.fund)
    for name, reader in READERS.items():
        if names is not None and name not in names:
            continue
        part = reader(ctx)
        for fname, value in part:
            if isinstance(value, list) and value:
                getattr(out, fname).extend(value)
    return out


def extract_facts(unit: Unit) -> Facts:
    """Read a Unit's structure into Facts; evidence carries document offsets, quotes filled by grounding."""
    return read(unit)


class RulesExtractor:
    """Deterministic, offline extractor."""

    name = "rules"

    def extract(self, unit: Unit) -> ExtractResult:
        return ExtractResult(facts=extract_facts(unit), extractor=self.name)


# Importing the modules fills the registry, in this order.
from auditor.extract.rules import (  # noqa: E402, I001
    flows,
    sums,
    ratios,
    changes,
    products,
    scores,
    indicators,
    ratings,
    claims,
    tables,
    restated,
)

__all__ = [
    "READERS",
    "Context",
    "RulesExtractor",
    "changes",
    "claims",
    "extract_facts",
    "flows",
    "indicators",
    "products",
    "ratings",
    "ratios",
    "read",
    "register",
    "restated",
    "scores",
    "sums",
    "tables",
]
