"""The LLM reply cache: one SQLite file under the user cache directory, keyed by what determines a reply.

The key is a hash of (prompt+text hash, model, base URL, mode, prompt version, schema version); the
stored value is the model's structured reply. No API key, header or request is ever written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import platformdirs

from auditor.errors import ConfigError

CACHE_FILE = "llm-cache.sqlite3"


def cache_key(**parts: str) -> str:
    """A stable hash of the named parts (order-independent)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class LLMCache:
    """A thread-safe key → JSON store in SQLite; safe to share between processes too (WAL, busy timeout)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                "model TEXT, prompt_version TEXT, created REAL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"无法打开LLM缓存 {self.path}：{exc}") from exc
        self._lock = threading.Lock()

    @staticmethod
    def default_path(cache_dir: str | Path | None = None) -> Path:
        """The cache file in --cache-dir, else in the platform's user cache directory for auditor."""
        base = Path(cache_dir) if cache_dir else Path(platformdirs.user_cache_dir("auditor"))
        return base / CACHE_FILE

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None  # a damaged entry is a miss, and the next put overwrites it
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any], *, model: str = "", prompt_version: str = "") -> None:
        blob = json.dumps(value, ensure_ascii=False, sort_keys=True)
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO replies (key, value, model, prompt_version, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, blob, model, prompt_version, time.time()),
                )
        except sqlite3.Error:
            pass  # a cache that cannot be written costs a request next time, never the result

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
