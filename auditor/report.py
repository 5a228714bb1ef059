"""Writing flags.csv and reports.csv: UTF-8 with BOM, fixed columns, guarded against formula injection."""

from __future__ import annotations

import csv
import re
from enum import Enum
from pathlib import Path
from typing import IO, Any

from auditor.flags import CHECK_COLUMNS, FLAG_COLUMNS, Flag

REPORT_COLUMNS = (
    "file",
    "unit",
    "status",
    "errors",
    "warnings",
    "facts",
    "checked",
    "tables",
    "tables_uncertain",
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
    """Appends rows to flags.csv, checks.csv and reports.csv and flushes after each report, so a crash loses nothing."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.flags_path = out_dir / "flags.csv"
        self.checks_path = out_dir / "checks.csv"
        self.reports_path = out_dir / "reports.csv"
        self._files: list[IO[str]] = []
        self._fw = self._open(self.flags_path, FLAG_COLUMNS)
        self._cw = self._open(self.checks_path, CHECK_COLUMNS)
        self._rw = self._open(self.reports_path, REPORT_COLUMNS)
        self._flush()

    def _open(self, path: Path, columns: tuple[str, ...]) -> Any:
        fh = path.open("w", encoding="utf-8-sig", newline="")
        self._files.append(fh)
        writer = csv.writer(fh)
        writer.writerow(columns)
        return writer

    def _flush(self) -> None:
        for fh in self._files:
            fh.flush()

    def write(self, report_row: dict[str, Any], checks: list[Flag]) -> None:
        """One report's rows: every check to checks.csv, the flagged ones to flags.csv, its summary to reports.csv."""
        for f in checks:
            self._cw.writerow([safe_cell(f.cell(c)) for c in CHECK_COLUMNS])
            if f.flagged:
                self._fw.writerow([safe_cell(f.cell(c)) for c in FLAG_COLUMNS])
        self._rw.writerow([safe_cell(report_row.get(c, "")) for c in REPORT_COLUMNS])
        self._flush()

    def close(self) -> None:
        for fh in self._files:
            fh.close()

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
