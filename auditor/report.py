"""Writing the output folder: flags.csv, checks.csv and reports.csv (UTF-8 with BOM, fixed columns, guarded
against formula injection), streamed report by report into partial files that replace the old results only
when the run is complete."""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError, OutputError
from auditor.flags import CHECK_COLUMNS, FLAG_COLUMNS, Flag
from auditor.review import named_rows, save_view, view_path, write_page
from auditor.workbook import Baseline, write_workbook

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


# Excel holds at most 32,767 characters in a cell and cuts the rest without a word; a longer cell (a model's
# runaway reply, a pasted dump) is cut here, visibly.
EXCEL_CELL = 32767
_CUT_MARK = "……（已截断）"


def safe_cell(value: Any) -> str:
    """Prefix a cell Excel would run as a formula with ', except a plain number such as -4.31; cut a cell longer
    than Excel holds."""
    if value is None:
        return ""
    s = str(value.value) if isinstance(value, Enum) else str(value)
    if s and s[0] in "=+-@\t\r" and not _PLAIN_NUMBER.match(s):
        s = "'" + s
    if len(s) > EXCEL_CELL:
        s = s[: EXCEL_CELL - len(_CUT_MARK)] + _CUT_MARK
    return s


NAMES = ("flags", "checks", "reports")
_COLUMNS = {"flags": FLAG_COLUMNS, "checks": CHECK_COLUMNS, "reports": REPORT_COLUMNS}
_LOCK = ".audit.lock"
_RUNNING = ".audit-running.jsonl"  # files whose rows are in the partial CSVs, one JSON line each
_DONE = ".audit-done.jsonl"  # the same for the finished CSVs, kept for --resume
_VIEWS = ".audit-review"  # each file's view for report.html, kept with the rows for --resume
HTML = "report.html"
XLSX = "flags.xlsx"


JSONL = "jsonl"  # flags.jsonl: one object per flag with every quote and its offsets, for scripts
OUTPUTS = (*NAMES, JSONL)


def final_path(out: Path, name: str) -> Path:
    return out / ("flags.jsonl" if name == JSONL else f"{name}.csv")


def partial_path(out: Path, name: str) -> Path:
    # The suffix last, so a half-finished run can still be opened in Excel.
    return out / ("flags.partial.jsonl" if name == JSONL else f"{name}.partial.csv")


def _items(name: str, path: Path) -> list[Any]:
    """The data rows of one output as written (CSV rows, or the parsed JSON lines); a torn last one is dropped."""
    if name != JSONL:
        return read_rows(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    items = []
    for line in text.split("\n"):
        with contextlib.suppress(ValueError):
            items.append(json.loads(line))
    return [i for i in items if isinstance(i, dict)]


def _file_of(name: str, item: Any) -> str:
    """The file an item belongs to, as `safe_cell` writes it in the CSVs."""
    if name == JSONL:
        return safe_cell(item.get("file", ""))
    return item[0] if item else ""


def _encoded(name: str, items: list[Any]) -> bytes:
    if name == JSONL:
        return b"".join(_json_line(i) for i in items)
    return b"\xef\xbb\xbf" + _lines([_COLUMNS[name], *items])


def _json_line(item: dict[str, object]) -> bytes:
    return (json.dumps(item, ensure_ascii=False) + "\n").encode("utf-8")


def output_reason(exc: OSError, where: Path) -> str:
    """One line in Chinese for an error writing the output."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"磁盘空间不足，无法写入 {where}"
    if exc.errno == errno.EFBIG:
        return f"文件超出大小限制，无法写入 {where}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有写入权限：{where}"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"输出位置 {where} 不是目录（-o 应指定一个目录）"
    return f"无法写入 {where}：{exc.strerror or type(exc).__name__}"


def _lines(rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_rows(path: Path) -> list[list[str]]:
    """The data rows of a CSV this module wrote; a row cut short by a kill or a full disk ends the reading."""
    rows: list[list[str]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            with contextlib.suppress(csv.Error):
                rows.extend(reader)
    except (OSError, UnicodeDecodeError):
        return []
    return rows


class RunFolder:
    """The output folder of one run: locked against a second run, rows appended to partial files report by
    report (a kill leaves whole rows), and the finished CSVs put in place only by `finish`."""

    def __init__(self, out: Path, *, html: bool = True, baseline: Baseline | None = None) -> None:
        self.out = Path(out)
        self.html = html
        self.baseline = baseline
        self.views = self.out / _VIEWS
        self.page_seconds = 0.0  # what report.html cost: drawing evidence pages in the workers, then the page
        self.kept_review: Path | None = None  # where a reviewed flags.xlsx was kept before it was replaced
        self._fds: dict[str, int] = {}
        self._committed: dict[str, int] = {}
        self._lock_fd: int | None = None
        try:
            if self.out.exists() and not self.out.is_dir():
                raise OutputError(f"输出位置 {self.out} 是一个文件，不是目录（-o 应指定一个目录）")
            self.out.mkdir(parents=True, exist_ok=True)
            self._lock()
        except OSError as exc:
            raise OutputError(output_reason(exc, self.out)) from None

    def _lock(self) -> None:
        fd = os.open(self.out / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform: run unguarded
            self._lock_fd = fd
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise OutputError(f"输出目录 {self.out} 正被另一次审核写入；请等它结束或换一个 -o 目录") from None
            # A file system without locks (NFS without lockd: ENOLCK) cannot tell; the run goes on unguarded.
        self._lock_fd = fd

    def previous(self) -> dict[str, dict[str, object]]:
        """What an earlier run into this folder recorded: file → its hash and settings. An unfinished run
        (killed or stopped) is preferred to the last finished one."""
        for name in (_RUNNING, _DONE):
            path = self.out / name
            if path.exists():
                return _read_manifest(path)
        return {}

    def begin(self, keep: dict[str, dict[str, object]] | None = None) -> list[dict[str, str]]:
        """Start the partial files, carrying over the rows and records of the files in `keep` (resume: file →
        its record from `previous`); returns the carried reports.csv rows.

        At every moment the record names only files whose rows are in the files it goes with, so a kill here
        loses nothing a later --resume relies on."""
        records = dict(keep or {})
        running = (self.out / _RUNNING).exists()
        carried: dict[str, list[Any]] = {n: [] for n in OUTPUTS}
        if records:
            shown = {safe_cell(f) for f in records}  # the file column as written, guard included
            for n in OUTPUTS:
                source = partial_path(self.out, n) if running else final_path(self.out, n)
                carried[n] = [item for item in _items(n, source) if _file_of(n, item) in shown]
        try:
            if running:
                # The old partial files hold every kept row: narrow the record first, then rewrite the files.
                self._replace(self.out / _RUNNING, b"".join(_record(r) for r in records.values()))
            else:
                for n in OUTPUTS:  # orphans of a run whose record is gone: never read, so never mixed in
                    partial_path(self.out, n).unlink(missing_ok=True)
            for n in OUTPUTS:
                self._replace(partial_path(self.out, n), _encoded(n, carried[n]))
            if not running:
                self._replace(self.out / _RUNNING, b"".join(_record(r) for r in records.values()))
            self._keep_views(set(records))
            for n in (*OUTPUTS, "running"):
                path = self.out / _RUNNING if n == "running" else partial_path(self.out, n)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
                self._fds[n] = fd
                self._committed[n] = os.fstat(fd).st_size
        except OSError as exc:
            raise OutputError(output_reason(exc, self.out)) from None
        return [dict(zip(REPORT_COLUMNS, row, strict=False)) for row in carried["reports"]]

    def _keep_views(self, files: set[str]) -> None:
        """Drop the saved views of every file but `files` (the ones a --resume keeps)."""
        kept = {view_path(self.views, f).name for f in files}
        if self.views.is_dir():
            for old in self.views.iterdir():
                if old.name not in kept:
                    old.unlink(missing_ok=True)
        if self.html:
            self.views.mkdir(exist_ok=True)

    def _replace(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def write(
        self,
        record: dict[str, object],
        report_rows: list[dict[str, Any]],
        checks: list[Flag],
        view: dict[str, Any] | None = None,
    ) -> None:
        """One file's rows (and its view for report.html), flushed to disk before its record: a file is either
        wholly in the results or not at all."""
        shown, anchors = named_rows(str(record["file"]), checks)
        chunks = {
            "checks": _lines([f.cell(c) for c in CHECK_COLUMNS] for f in checks),
            "flags": _lines([f.cell(c) for c in FLAG_COLUMNS] for f in checks if f.flagged),
            "reports": _lines([row.get(c, "") for c in REPORT_COLUMNS] for row in report_rows),
            # Without the review page there is nothing for an anchor to point at.
            JSONL: b"".join(
                _json_line(f.record(a if self.html and a else "")) for f, a in zip(checks, anchors, strict=True) if a
            ),
            "running": _record(record),
        }
        try:
            if self.html and view is not None:
                try:
                    save_view(self.views, str(record["file"]), view, shown)
                except (ValueError, TypeError):
                    pass  # the page then lists the file without its text; its rows are unaffected
            for n, data in chunks.items():
                if data:
                    _write_all(self._fds[n], data)
        except OSError as exc:
            self._rollback()
            raise OutputError(output_reason(exc, self.out) + "；此前写出的结果完好（*.partial.csv）") from None
        for n in chunks:
            self._committed[n] = os.fstat(self._fds[n]).st_size

    def _rollback(self) -> None:
        # A write that failed half way (disk full) would leave a torn row: cut back to the last whole file.
        for n, fd in self._fds.items():
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._committed[n])

    def finish(self, order: Sequence[str], dismissed: int = 0) -> None:
        """Put the finished outputs in place, rows in the order of `order` (file names), with flags.xlsx and
        report.html made from them, and keep the record for a later --resume. The new files are all written
        before any is put in place, and an interrupt while they are put in place waits until the last one is."""
        rank = {safe_cell(f): i for i, f in enumerate(order)}
        self._close_files()
        tmps: list[tuple[Path, Path]] = []
        try:
            finished: dict[str, list[Any]] = {}
            for n in OUTPUTS:
                items = _items(n, partial_path(self.out, n))
                items.sort(key=lambda item, n=n: rank.get(_file_of(n, item), len(rank)))
                finished[n] = items
                final = final_path(self.out, n)
                tmp = final.with_name(f".{final.name}.tmp")
                tmp.write_bytes(_encoded(n, items))
                tmps.append((tmp, final))
            tmp = self.out / f".{XLSX}.tmp"
            write_workbook(tmp, finished[JSONL], self.baseline)
            tmps.append((tmp, self.out / XLSX))
            self._keep_review()
            if self.html:
                t0 = time.perf_counter()
                tmp = self.out / f".{HTML}.tmp"
                names = {safe_cell(f): f for f in order}  # the page shows names without the CSVs' formula guard
                reports = [dict(zip(REPORT_COLUMNS, row, strict=False)) for row in finished["reports"]]
                for r in reports:
                    r["file"] = names.get(r.get("file", ""), r.get("file", ""))
                drawn = write_page(tmp, order, reports, self.views, dismissed)
                self.page_seconds = drawn + time.perf_counter() - t0
                tmps.append((tmp, self.out / HTML))
            with _interrupts_deferred():
                for tmp, final in tmps:
                    os.replace(tmp, final)
                os.replace(self.out / _RUNNING, self.out / _DONE)
            if not self.html:
                (self.out / HTML).unlink(missing_ok=True)  # a page of an earlier run would not match these rows
            for n in OUTPUTS:
                partial_path(self.out, n).unlink(missing_ok=True)
        except OSError as exc:
            for tmp, _ in tmps:
                tmp.unlink(missing_ok=True)
            raise OutputError(output_reason(exc, self.out) + "；结果保留在 *.partial.csv 中") from None

    def _keep_review(self) -> None:
        """A flags.xlsx a reviewer filled in (any 结论) is copied aside before the new one replaces it."""
        old = self.out / XLSX
        if not old.is_file():
            return
        try:
            reviewed = len(Baseline.load(old)) > 0
        except AuditorError:
            return  # not a workbook we can read: nothing of a review to keep
        if reviewed:
            kept = self.out / f"flags.复核{time.strftime('%Y%m%d-%H%M%S')}.xlsx"
            shutil.copy2(old, kept)
            self.kept_review = kept

    def _close_files(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()

    def close(self) -> None:
        """Release the files and the lock; partial files stay for --resume."""
        self._close_files()
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record(record: dict[str, object]) -> bytes:
    # ASCII escapes: a name holding U+2028 or U+0085 would otherwise split the line when read back.
    return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")


_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (main thread only; elsewhere the block just runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {
        sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


def _read_manifest(path: Path) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if isinstance(rec, dict) and isinstance(rec.get("file"), str):
            out[rec["file"]] = rec
    return out
