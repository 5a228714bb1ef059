"""Flags: one finding each, the rows of flags.csv."""

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


@dataclass
class Flag:
    """A finding of one check in one Unit; `stated`/`computed`/`difference` are display strings."""

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
    extra: dict[str, str] = field(default_factory=dict)
