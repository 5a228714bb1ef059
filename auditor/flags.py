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
)
# checks.csv: the working paper's ticks, one row per relation computed, pass or fail.
CHECK_COLUMNS = (*FLAG_COLUMNS, "result", "formula")


@dataclass(frozen=True)
class Quote:
    """One verbatim quote a row rests on, with its offsets in the file's extracted text and its PDF page."""

    text: str
    start: int | None = None
    end: int | None = None
    page: int | None = None


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

    @property
    def flagged(self) -> bool:
        return self.result == Result.FLAG

    def cell(self, column: str) -> object:
        """The value of a CSV column; an ok row has no severity (it is not a finding)."""
        if column == "severity" and not self.flagged:
            return ""
        return getattr(self, column)
