"""Tables as grids of cells: the one table model every loader hands on, whatever the source layout.

A Grid is rectangular: every row has a cell for every column. A cell a merged cell covers is present,
empty and `merged`; its text stands in the cell it continues. Every cell with text knows where that
text stands in the document, so a quote from a table is as traceable as a quote from prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    """One position of a grid: its text as in the document and the document offsets of that text."""

    text: str = ""
    start: int = -1  # -1: the cell holds no text of the document
    end: int = -1
    merged: bool = False  # covered by a merged cell to its left or above

    @property
    def empty(self) -> bool:
        return not self.text.strip()


@dataclass
class Grid:
    """A table: rows of cells, the document span it occupies, the layout it was read from.

    `uncertain` says why the grid cannot be trusted (rows that could not be aligned); nothing in such a
    grid is checked, and the report counts it.
    """

    rows: list[list[Cell]]
    start: int
    end: int
    source: str  # pdf | docx | tab | pipe | cells | lines | blocks | oneline
    uncertain: str = ""
    notes: list[str] = field(default_factory=list)
    ragged: set[int] = field(default_factory=set)  # rows that lost a cell nobody marked: their numbers are unplaced

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def texts(self) -> list[list[str]]:
        return [[c.text for c in r] for r in self.rows]

    def squared(self) -> Grid:
        """The grid padded with empty cells so that every row has `width` cells."""
        w = self.width
        rows = [r + [Cell()] * (w - len(r)) for r in self.rows]
        return Grid(rows, self.start, self.end, self.source, self.uncertain, list(self.notes), set(self.ragged))
