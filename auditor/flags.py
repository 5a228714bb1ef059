"""Flags and check rows: every relation a check computed, the rows of checks.csv; the failed ones go to flags.csv."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Result(StrEnum):
    """What a check concluded about one relation: it holds (ok) or it does not (flag)."""

    OK = "ok"
    FLAG = "flag"


DISMISSED = "dismissed"  # checks.csv's result for a flag a reviewer dismissed in the --baseline workbook
UNPLACED = "未定位"  # the location of a quote whose place in the text is unknown


FLAG_COLUMNS = (
    "file",
    "unit",
    "check",
    "severity",
    "message",
    "stated",
    "computed",
    "difference",
    "evidence",
    "page",
    "start",
    "end",
    "location",
)
# checks.csv: the working paper's ticks, one row per relation computed, pass or fail.
CHECK_COLUMNS = (*FLAG_COLUMNS, "result", "formula")


@dataclass(frozen=True)
class Quote:
    """One verbatim quote a row rests on, with its offsets in the file's extracted text, its PDF page, and where a
    person finds it in the file (第3页, 第12段, 表2第5行, 第45行)."""

    text: str
    start: int | None = None
    end: int | None = None
    page: int | None = None
    location: str = ""


@dataclass
class Flag:
    """One relation a check computed in one Unit; `stated`/`computed`/`difference` are display strings.

    A row whose `result` is ok is a tick in checks.csv; a flag row is also a finding in flags.csv.
    """

    check: str
    severity: Severity
    message: str
    stated: str = ""
    computed: str = ""
    difference: str = ""
    evidence: str = ""
    start: int | None = None
    end: int | None = None
    page: int | None = None
    file: str = ""
    unit: str = ""
    result: Result = Result.FLAG
    formula: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    quotes: list[Quote] = field(default_factory=list)  # every quote of `evidence`, not only the first
    dismissed: bool = False  # a reviewer dismissed this flag in the --baseline workbook

    @property
    def flagged(self) -> bool:
        """A finding: a failed relation no reviewer dismissed."""
        return self.result == Result.FLAG and not self.dismissed

    @property
    def location(self) -> str:
        """Where each part of `evidence` stands, in the same order and joined the same way; a quote found at
        several places lists them all (第3页、第5页)."""
        places: dict[str, list[str]] = {}
        for q in self.quotes:
            found = places.setdefault(" ".join(q.text.split()), [])
            where = q.location or UNPLACED
            if where not in found:
                found.append(where)
        return " … ".join("、".join(p) for p in places.values())

    def record(self, anchor: str = "") -> dict[str, object]:
        """The row as one flags.jsonl object: the flags.csv fields, the formula, its anchor in report.html, and
        every quote with its offsets, page and location."""
        return {
            "file": self.file,
            "unit": self.unit,
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
            "stated": self.stated,
            "computed": self.computed,
            "difference": self.difference,
            "formula": self.formula,
            "evidence": self.evidence,
            "location": self.location,
            "anchor": anchor,
            "quotes": [
                {"text": q.text, "start": q.start, "end": q.end, "page": q.page, "location": q.location}
                for q in self.quotes
            ],
        }

    def cell(self, column: str) -> object:
        """The value of a CSV column; an ok row has no severity (it is not a finding)."""
        if column == "severity" and self.result == Result.OK:
            return ""
        if column == "result" and self.dismissed:
            return DISMISSED
        return getattr(self, column)
