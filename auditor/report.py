"""Writing flags.csv and reports.csv: UTF-8 with BOM, fixed columns, guarded against formula injection."""

from __future__ import annotations

import csv
import re
from enum import Enum
from pathlib import Path
from typing import IO, Any

from auditor.flags import FLAG_COLUMNS, Flag

REPORT_COLUMNS = (
    "file",
    "unit",
    "status",
    "errors",
    "warnings",
    "extractor",
    "seconds",
    "detail",
    "dropped",
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "cached",
    "disagreements",
)
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?%?$")


def safe_cell(value: Any) -> str:
    """Prefix a cell Excel would run as a formula with ', except a plain number such as -4.31."""
    if value is None:
        return ""
    s = str(value.value) if isinstance(value, Enum) else str(value)
    if s and s[0] in "=+-@\t\r" and not _PLAIN_NUMBER.match(s):
        return "'" + s
    return s


class CsvSink:
    """Appends rows to flags.csv and reports.csv and flushes after each report, so a crash loses nothing."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.flags_path = out_dir / "flags.csv"
        self.reports_path = out_dir / "reports.csv"
        self._flags: IO[str] = self.flags_path.open("w", encoding="utf-8-sig", newline="")
        self._reports: IO[str] = self.reports_path.open("w", encoding="utf-8-sig", newline="")
        self._fw = csv.writer(self._flags)
        self._rw = csv.writer(self._reports)
        self._fw.writerow(FLAG_COLUMNS)
        self._rw.writerow(REPORT_COLUMNS)
        self._flush()

    def _flush(self) -> None:
        self._flags.flush()
        self._reports.flush()

    def write(self, report_row: dict[str, Any], flags: list[Flag]) -> None:
        for f in flags:
            self._fw.writerow([safe_cell(getattr(f, c)) for c in FLAG_COLUMNS])
        self._rw.writerow([safe_cell(report_row.get(c, "")) for c in REPORT_COLUMNS])
        self._flush()

    def close(self) -> None:
        self._flags.close()
        self._reports.close()

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
