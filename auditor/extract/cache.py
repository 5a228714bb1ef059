"""The LLM reply cache: one SQLite file under the user cache directory, keyed by what determines a reply.

The key is a hash of (prompt+text hash, model, base URL, mode, prompt version, schema version); the
stored value is the model's structured reply. No API key, header or request is ever written.

The cache heals instead of stopping a run. A file that is not a sound cache (not SQLite, damaged, a
`replies` table of another shape, a -wal/-shm left without its database) is moved aside with its -wal
and -shm to `<name>.corrupt-<timestamp>` (never deleted) and a fresh database takes its place; damage
that surfaces mid-run is healed the same way once, and a second failure turns the cache off for the
process. A cache that cannot be used at all (a directory in the way, no write permission) is off from
the start. Each of these leaves a one-line Chinese note in `LLMCache.warnings`; nothing is printed and
`LLMCache(path)`, `get`, `put` and `evict` never raise because of the cache file.

Processes share the file (WAL, 30 s busy timeout). Opening and healing run under an exclusive
`flock` on `<name>.lock`, and a healer moves the file only if it is still the one it found damaged,
so two processes that detect the same damage move it aside once. A process that still holds the
moved file keeps its handle (SQLite does not checkpoint or delete the -wal of a moved database when
it closes it) and switches to the new file at its next `get`/`put`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

try:
    import fcntl
except ImportError:  # pragma: no cover - no flock on Windows: healing there relies on the file-identity check
    fcntl = None  # type: ignore[assignment]

CACHE_FILE = "llm-cache.sqlite3"
# `PRAGMA quick_check` at open reads every page, ~0.6 ms per MB with a warm OS cache: 10,000 replies take
# 5 ms at 1 KB each (9 MB), 26 ms at 2 KB each (42 MB); opening without it takes 0.2 ms. Larger files skip
# it and rely on damage being caught when a read or write meets it.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
BUSY_TIMEOUT = 30.0

_COLUMNS = ("key", "value", "model", "prompt_version", "created")
_CREATE = (
    "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
    "model TEXT, prompt_version TEXT, created REAL)"
)
_INSERT = "INSERT OR REPLACE INTO replies (key, value, model, prompt_version, created) VALUES (?, ?, ?, ?, ?)"
_SIDECARS = ("-wal", "-shm", "-journal")  # moved with the database: SQLite would apply them to a new file
# Primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26
_SQLITE_REASONS = {
    3: "没有访问权限",
    8: "数据库只读",
    10: "磁盘读写错误",
    13: "磁盘已满",
    14: "无法打开数据库文件",
    23: "没有访问权限",
    _SQLITE_CORRUPT: "数据库文件已损坏",
    _SQLITE_NOTADB: "不是SQLite数据库",
}

T = TypeVar("T")


class _Unsound(Exception):
    """A file that opens as SQLite but is not a sound cache; `reason` is the Chinese phrase for the warning."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def cache_key(**parts: str) -> str:
    """A stable hash of the named parts (order-independent)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _is_damage(exc: BaseException) -> bool:
    """Damage to heal by moving the file aside; anything else (busy, read-only, disk full) is not."""
    if isinstance(exc, _Unsound):
        return True
    code = _code(exc)
    if code is not None:
        return code in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc)
    return isinstance(exc, sqlite3.Error) and ("malformed" in text or "not a database" in text)


def _is_busy(exc: BaseException) -> bool:
    code = _code(exc)
    if code is not None:
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return isinstance(exc, sqlite3.Error) and "locked" in str(exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Unsound):
        return exc.reason
    if isinstance(exc, OSError):
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "没有写入权限"
        if exc.errno == errno.ENOSPC:
            return "磁盘已满"
        return exc.strerror or str(exc)
    if _is_busy(exc):
        return f"数据库被其他进程占用超过{BUSY_TIMEOUT:g}秒"
    return _SQLITE_REASONS.get(_code(exc) or -1) or str(exc)


class LLMCache:
    """A thread-safe key → JSON store in SQLite, shared by processes; it heals or turns itself off, never raises.

    `warnings` collects one-line Chinese notes (a file moved aside, the cache turned off); `moved` lists
    the files moved aside; `enabled` is False once the cache is off (every get a miss, put a no-op).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self.moved: list[Path] = []
        self.enabled = False
        self._db: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._failures = 0
        self._taken = 0
        self._lock = threading.RLock()
        with self._lock:
            self._open()

    @staticmethod
    def default_path(cache_dir: str | Path | None = None) -> Path:
        """The cache file in --cache-dir, else in the platform's user cache directory for auditor."""
        base = Path(cache_dir) if cache_dir else Path(platformdirs.user_cache_dir("auditor"))
        return base / CACHE_FILE

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    # ------------------------------------------------------------------ public API
    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply, or None (a miss). A stored value that is not a JSON object is deleted."""
        with self._lock:
            row = self._run(lambda db: db.execute("SELECT value FROM replies WHERE key = ?", (key,)).fetchone())
            if row is None:
                return None
            try:
                value = json.loads(row[0])
            except (TypeError, ValueError):
                value = None
            if isinstance(value, dict):
                return value
            self.evict(key)  # a poisoned entry is a miss once, then gone
            return None

    def put(self, key: str, value: dict[str, Any], *, model: str = "", prompt_version: str = "") -> None:
        """Store a reply; a cache that cannot be written costs a request next time, never the result."""
        blob = json.dumps(value, ensure_ascii=False, sort_keys=True)
        row = (key, blob, model, prompt_version, time.time())
        with self._lock:
            self._run(lambda db: db.execute(_INSERT, row), again=True)

    def evict(self, key: str) -> None:
        """Forget one entry (e.g. a cached reply that no longer validates), so the next request asks the model."""
        with self._lock:
            self._run(lambda db: db.execute("DELETE FROM replies WHERE key = ?", (key,)))

    def take_warnings(self) -> list[str]:
        """The warnings added since the last call (all of them stay in `warnings`)."""
        with self._lock:
            new = self.warnings[self._taken :]
            self._taken = len(self.warnings)
            return new

    def __len__(self) -> int:
        with self._lock:
            count = self._run(lambda db: db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])
            return int(count or 0)

    def close(self) -> None:
        with self._lock:
            self._close_db()
            self.enabled = False

    # ------------------------------------------------------------------ running a statement
    def _run(self, op: Callable[[sqlite3.Connection], T], *, again: bool = False) -> T | None:
        """Run `op` on the database; heal once on damage (re-running `op` if `again`); None when the cache is off."""
        if not self.enabled:
            return None
        self._follow()
        if self._db is None or not self.enabled:
            return None
        try:
            return op(self._db)
        except sqlite3.Error as exc:
            if _is_busy(exc):
                return None  # another process held the write lock past the timeout: a miss, not damage
            if not _is_damage(exc):
                self._disable(_reason(exc))
                return None
            if not self._heal(exc) or not again or self._db is None:
                return None
        try:
            return op(self._db)
        except sqlite3.Error as exc:
            if _is_damage(exc):
                self._heal(exc)  # the second failure: turns the cache off
            elif not _is_busy(exc):
                self._disable(_reason(exc))
            return None

    def _follow(self) -> None:
        """Switch to the file now at `path` when another process (or a person) moved or deleted ours."""
        if self._current_identity() == self._identity:
            return
        self._close_db()
        with self._file_lock():
            self._open_locked()

    # ------------------------------------------------------------------ opening
    def _open(self) -> None:
        problem = self._unusable()
        if problem:
            self._disable(problem)
            return
        with self._file_lock():
            self._open_locked()

    def _unusable(self) -> str | None:
        """Why the cache cannot be used at all (checked before touching SQLite), or None."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            return f"缓存目录的位置 {self.path.parent} 被文件占用"
        except OSError as exc:
            return f"无法创建缓存目录：{_reason(exc)}"
        try:
            if self.path.is_dir():
                return "缓存文件的位置是一个目录"
            if not os.access(self.path.parent, os.W_OK):
                return "缓存目录没有写入权限"
            if self.path.exists() and not os.access(self.path, os.W_OK):
                return "缓存文件只读"
        except OSError as exc:
            return _reason(exc)
        return None

    def _open_locked(self) -> None:
        """Open the file at `path` (the lock is held), moving it aside once if it is damaged."""
        if self._stale_sidecars():
            try:
                moved = self._move_aside()
            except OSError as exc:
                self._disable(f"残留的-wal/-shm文件无法移开：{_reason(exc)}")
                return
            self._warn_moved("残留的-wal/-shm文件没有对应的数据库", moved)
        try:
            self._connect()
            return
        except (sqlite3.Error, _Unsound, OSError) as exc:
            if not _is_damage(exc):
                self._disable(_reason(exc))
                return
            damage = exc
        self._failures += 1
        if self._failures > 1:
            self._disable(f"重建后再次出错：{_reason(damage)}")
            return
        try:
            moved = self._move_aside()  # before closing: SQLite does not checkpoint into a moved file
        except OSError as exc:
            self._disable(f"{_reason(damage)}，且无法移开：{_reason(exc)}")
            return
        self._close_db()
        self._warn_moved(_reason(damage), moved)
        self._connect_or_disable()

    def _connect_or_disable(self) -> None:
        try:
            self._connect()
        except (sqlite3.Error, _Unsound, OSError) as exc:
            self._disable(f"新建后仍无法使用：{_reason(exc)}")

    def _connect(self) -> None:
        """Connect and check the file, reading before writing so a file moved aside keeps its bytes."""
        self._close_db()
        self._db = db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None)
        columns = {row[1]: row[5] for row in db.execute("PRAGMA table_info(replies)")}
        if columns and (not set(_COLUMNS) <= set(columns) or columns["key"] != 1):
            raise _Unsound("replies表结构不符")
        if os.path.getsize(self.path) <= QUICK_CHECK_MAX_BYTES:
            verdict = db.execute("PRAGMA quick_check(1)").fetchone()
            if verdict is None or verdict[0] != "ok":
                raise _Unsound("数据库文件已损坏")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a power cut may lose the last replies, not the file
        db.execute(_CREATE)
        self._identity = self._current_identity()
        self.enabled = True

    # ------------------------------------------------------------------ healing
    def _heal(self, exc: BaseException) -> bool:
        """Damage met mid-run: move the file aside and start afresh once; the second time, turn the cache off."""
        self._failures += 1
        reason = _reason(exc)
        if self._failures > 1:
            self._disable(f"重建后再次出错：{reason}")
            return False
        found = self._identity
        with self._file_lock():
            if self._current_identity() == found:
                try:
                    moved = self._move_aside()
                except OSError as err:
                    self._disable(f"{reason}，且无法移开：{_reason(err)}")
                    return False
                self._warn_moved(reason, moved)
            else:
                self._warn(f"LLM缓存已损坏（{reason}），另一进程已将其移开并新建，改用新缓存：{self.path}")
            self._close_db()
            self._connect_or_disable()
        return self.enabled

    def _stale_sidecars(self) -> bool:
        """A -wal/-shm without its database (our WAL switch writes the database first, so this is left over)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        except OSError:
            return False
        return size == 0 and any(os.path.lexists(f"{self.path}{s}") for s in ("-wal", "-shm"))

    def _move_aside(self) -> Path | None:
        """Rename the file and its -wal/-shm/-journal to `<name>.corrupt-<timestamp>[-n]`; the first name moved."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        n = 1
        while True:
            base = f"{self.path}.corrupt-{stamp}" + (f"-{n}" if n > 1 else "")
            if not any(os.path.lexists(base + s) for s in ("", *_SIDECARS)):
                break
            n += 1
        first: Path | None = None
        for suffix in ("", *_SIDECARS):  # the database first: from then on SQLite sees it as moved
            src = f"{self.path}{suffix}"
            if os.path.lexists(src):
                os.rename(src, base + suffix)
                self.moved.append(Path(base + suffix))
                first = first or Path(base + suffix)
        return first

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An exclusive flock on `<name>.lock` across processes (best effort: without it, heal unguarded)."""
        fd: int | None = None
        if fcntl is not None:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                if fd is not None:
                    os.close(fd)
                fd = None
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing the descriptor releases the lock

    def _current_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    # ------------------------------------------------------------------ state
    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _disable(self, reason: str) -> None:
        self._close_db()
        self.enabled = False
        self._warn(f"LLM缓存不可用（{reason}），本次运行不使用缓存：{self.path}")

    def _warn_moved(self, reason: str, moved: Path | None) -> None:
        if moved is not None:
            self._warn(f"LLM缓存已损坏（{reason}），原文件已移至 {moved}，已新建空缓存")

    def _warn(self, text: str) -> None:
        self.warnings.append(text)
