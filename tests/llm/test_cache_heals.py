"""The LLM cache heals: damaged files are moved aside (never deleted) and rebuilt, an unusable place turns it off.

Every case works on real files in tmp_path with the real sqlite3 module; the only promise checked
besides the files is the one the extractor relies on: LLMCache(path), get, put and evict never raise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.extract.cache import CACHE_FILE, LLMCache, cache_key

PAD = "上年结转资金" * 120  # ~2 KB a reply, so a few hundred entries span many pages


def key(i: int | str) -> str:
    return cache_key(text_hash=str(i), model="m", base_url="u", mode="tools", prompt_version="1", schema_version="1")


def reply(i: int | str) -> dict[str, Any]:
    return {"reply": {"i": str(i), "pad": PAD}}


def fill(path: Path, n: int) -> None:
    """A real cache of n entries written through LLMCache, checkpointed into the main file on close."""
    cache = LLMCache(path)
    for i in range(n):
        cache.put(key(i), reply(i), model="m", prompt_version="1")
    assert len(cache) == n and not cache.warnings
    cache.close()


def corrupt_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm")))


def assert_works(cache: LLMCache, path: Path, tag: str = "after") -> None:
    """get/put work on the live cache, and a new LLMCache on the same path sees the entry without a warning."""
    assert cache.enabled
    cache.put(key(tag), reply(tag), model="m", prompt_version="1")
    assert cache.get(key(tag)) == reply(tag)
    again = LLMCache(path)
    assert again.get(key(tag)) == reply(tag) and again.warnings == []
    again.close()


def assert_moved_aside(cache: LLMCache, path: Path, original: bytes, reason: str) -> Path:
    """One file moved aside, with the original bytes, named in a one-line Chinese warning."""
    [moved] = corrupt_files(path)
    assert moved.name.startswith(CACHE_FILE + ".corrupt-")
    assert moved.read_bytes() == original
    assert cache.moved and cache.moved[0] == moved
    [warning] = cache.warnings
    assert warning == f"LLM缓存已损坏（{reason}），原文件已移至 {moved}，已新建空缓存"
    assert "\n" not in warning
    return moved


@contextlib.contextmanager
def unwritable(target: Path) -> Iterator[None]:
    """Make a file or folder unwritable; root writes through permission bits, so it gets the immutable attribute."""
    if os.geteuid() == 0:
        done = shutil.which("chattr") and not subprocess.run(["chattr", "+i", str(target)], check=False).returncode
        if not done:
            pytest.skip("cannot make a path unwritable for root here")
    else:
        target.chmod(0o500 if target.is_dir() else 0o400)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(target)], check=False)
        target.chmod(0o700 if target.is_dir() else 0o600)


# ---------------------------------------------------------------------- damaged at open


def test_a_file_of_garbage_bytes_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    original = os.urandom(3000) + "不是数据库".encode()
    path.write_bytes(original)
    cache = LLMCache(path)
    assert cache.get(key(1)) is None
    assert_moved_aside(cache, path, original, "不是SQLite数据库")
    assert_works(cache, path)
    assert cache.take_warnings() == cache.warnings and cache.take_warnings() == []


def test_a_truncated_database_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, 200)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    original = path.read_bytes()
    cache = LLMCache(path)
    assert cache.get(key(150)) is None and len(cache) == 0
    assert_moved_aside(cache, path, original, "数据库文件已损坏")
    assert_works(cache, path)


def test_a_replies_table_of_another_shape_is_moved_aside_untouched(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE replies (k TEXT, v BLOB)")
        db.execute("INSERT INTO replies VALUES ('a', x'00ff')")
    original = path.read_bytes()
    cache = LLMCache(path)
    moved = assert_moved_aside(cache, path, original, "replies表结构不符")
    with contextlib.closing(sqlite3.connect(moved)) as db:  # the user's data is still readable where it went
        assert db.execute("SELECT k FROM replies").fetchall() == [("a",)]
    assert_works(cache, path)


def test_a_wal_and_shm_left_without_their_database_are_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    holder = LLMCache(path)  # while it is open the -wal holds its entries
    for i in range(5):
        holder.put(key(i), reply(i))
    wal, shm = (tmp_path / (CACHE_FILE + "-wal")).read_bytes(), (tmp_path / (CACHE_FILE + "-shm")).read_bytes()
    holder.close()
    path.unlink()
    (tmp_path / (CACHE_FILE + "-wal")).write_bytes(wal)
    (tmp_path / (CACHE_FILE + "-shm")).write_bytes(shm)
    cache = LLMCache(path)
    [warning] = cache.warnings
    moved_wal = next(p for p in cache.moved if p.name.endswith("-wal"))
    assert moved_wal.read_bytes() == wal and moved_wal.name.startswith(CACHE_FILE + ".corrupt-")
    assert warning == f"LLM缓存已损坏（残留的-wal/-shm文件没有对应的数据库），原文件已移至 {moved_wal}，已新建空缓存"
    assert cache.get(key(1)) is None
    assert_works(cache, path)


def test_a_garbled_wal_next_to_a_sound_database_costs_nothing(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, 20)
    (tmp_path / (CACHE_FILE + "-wal")).write_bytes(os.urandom(40000))
    (tmp_path / (CACHE_FILE + "-shm")).write_bytes(os.urandom(32768))
    cache = LLMCache(path)
    assert cache.warnings == [] and corrupt_files(path) == []
    assert cache.get(key(7)) == reply(7) and len(cache) == 20
    assert_works(cache, path)


# ---------------------------------------------------------------------- an unusable place: the cache is off


def assert_off(cache: LLMCache, path: Path, reason: str) -> None:
    assert not cache.enabled
    assert cache.warnings == [f"LLM缓存不可用（{reason}），本次运行不使用缓存：{path}"]
    cache.put(key(1), reply(1))  # a no-op, not an exception
    assert cache.get(key(1)) is None and len(cache) == 0
    cache.evict(key(1))
    assert corrupt_files(path) == []


def test_a_directory_in_the_way_turns_the_cache_off(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    cache = LLMCache(path)
    assert_off(cache, path, "缓存文件的位置是一个目录")
    assert (path / "keep.txt").read_text() == "mine"


def test_a_file_where_the_cache_dir_should_be_turns_the_cache_off(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file")
    path = tmp_path / "cache" / CACHE_FILE
    cache = LLMCache(path)
    assert not cache.enabled and len(cache.warnings) == 1 and "被文件占用" in cache.warnings[0]
    assert cache.get(key(1)) is None


def test_an_unwritable_cache_dir_turns_the_cache_off(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    path = folder / CACHE_FILE
    with unwritable(folder):
        cache = LLMCache(path)
        assert_off(cache, path, "缓存目录没有写入权限")
    assert list(folder.iterdir()) == []


def test_a_read_only_cache_file_turns_the_cache_off(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, 3)
    original = path.read_bytes()
    with unwritable(path):
        cache = LLMCache(path)
        assert_off(cache, path, "缓存文件只读")
    assert path.read_bytes() == original


# ---------------------------------------------------------------------- poisoned entries


def test_a_poisoned_entry_is_a_miss_once_and_then_gone(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    cache = LLMCache(path)
    for i in range(4):
        cache.put(key(i), reply(i))
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE replies SET value = 'not json {' WHERE key = ?", (key(0),))
        db.execute("UPDATE replies SET value = '[1, 2]' WHERE key = ?", (key(1),))
        db.execute("UPDATE replies SET value = x'fffe00' WHERE key = ?", (key(2),))
    assert [cache.get(key(i)) for i in range(4)] == [None, None, None, reply(3)]
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT key FROM replies").fetchall() == [(key(3),)]
    assert cache.warnings == []


def test_evict_forgets_one_entry(tmp_path: Path) -> None:
    cache = LLMCache(tmp_path / CACHE_FILE)
    cache.put(key(1), reply(1))
    cache.put(key(2), reply(2))
    cache.evict(key(1))
    cache.evict("no such key")
    assert cache.get(key(1)) is None and cache.get(key(2)) == reply(2) and len(cache) == 1


# ---------------------------------------------------------------------- damage met mid-run


BIG = 1000  # entries: a 4 MB file, twice SQLite's default page cache, so the damage cannot all sit in memory


def overwrite_middle(path: Path) -> bytes:
    """Garble three quarters of the file (all but the head and tail), more than one connection keeps cached."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 8)
        f.write(os.urandom(size * 3 // 4))
    return path.read_bytes()


def first_damage(cache: LLMCache, n: int) -> int:
    """Read entries until the cache reports damage; the index of that read."""
    for i in range(n):
        assert cache.get(key(i)) in (None, reply(i))
        if cache.warnings:
            return i
    raise AssertionError("the overwritten pages were never read")


def test_damage_appearing_after_open_is_healed_once_and_the_run_goes_on(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, BIG)
    cache = LLMCache(path)
    assert cache.get(key(0)) == reply(0)
    original = overwrite_middle(path)
    first_damage(cache, BIG)
    assert_moved_aside(cache, path, original, "数据库文件已损坏")
    assert cache.get(key(3)) is None  # the fresh cache is empty
    assert_works(cache, path)
    cache.put("x", {"a": 1})  # a put that meets damage lands in the fresh file
    assert LLMCache(path).get("x") == {"a": 1}


def test_a_second_failure_turns_the_cache_off_without_raising(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    path.write_bytes(b"garbage one" * 100)
    cache = LLMCache(path)
    cache.put(key(1), reply(1))
    assert cache.enabled and len(cache.warnings) == 1
    for suffix in ("", "-wal", "-shm"):  # the fresh file is taken away, and damage stands in its place
        os.rename(f"{path}{suffix}", tmp_path / f"gone{suffix}")
    path.write_bytes(b"garbage two" * 100)
    assert cache.get(key(1)) is None
    cache.put(key(2), reply(2))
    cache.evict(key(2))
    assert not cache.enabled and len(cache) == 0
    assert cache.warnings[1] == f"LLM缓存不可用（重建后再次出错：不是SQLite数据库），本次运行不使用缓存：{path}"
    assert len(corrupt_files(path)) == 1 and path.read_bytes() == b"garbage two" * 100  # left for the next run
    fresh = LLMCache(path)
    assert fresh.enabled and len(corrupt_files(path)) == 2


def test_two_caches_meeting_the_same_damage_move_it_aside_once(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, BIG)
    one, two = LLMCache(path), LLMCache(path)
    overwrite_middle(path)
    first_damage(one, BIG)
    assert len(corrupt_files(path)) == 1
    two.put(key("two"), reply("two"))  # the other cache follows to the fresh file instead of moving it
    one.put(key("one"), reply("one"))
    assert len(corrupt_files(path)) == 1
    for cache in (one, two, LLMCache(path)):
        assert cache.get(key("one")) == reply("one") and cache.get(key("two")) == reply("two")
    assert two.enabled and all("已移至" not in w for w in two.warnings)


def test_a_healer_that_waited_for_the_lock_does_not_move_the_file_another_one_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, BIG)
    cache = LLMCache(path)
    overwrite_middle(path)
    with open(cache.lock_path, "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another healer holds the lock while this cache meets the damage
        reader = threading.Thread(target=first_damage, args=(cache, BIG))
        reader.start()
        reader.join(timeout=2)
        assert reader.is_alive()  # blocked on the lock, with the damaged file still in place
        for suffix in ("", "-wal", "-shm"):  # the other healer moves it aside and builds a fresh one
            if os.path.exists(f"{path}{suffix}"):
                os.rename(f"{path}{suffix}", f"{path}.corrupt-other{suffix}")
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE replies (key TEXT PRIMARY KEY, value TEXT NOT NULL, model TEXT, prompt_version TEXT, "
                "created REAL)"
            )
            db.execute("INSERT INTO replies (key, value) VALUES (?, ?)", (key("theirs"), json.dumps(reply("theirs"))))
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert [p.name for p in corrupt_files(path)] == [CACHE_FILE + ".corrupt-other"] and cache.moved == []
    assert cache.warnings == [f"LLM缓存已损坏（数据库文件已损坏），另一进程已将其移开并新建，改用新缓存：{path}"]
    assert cache.get(key("theirs")) == reply("theirs")
    assert_works(cache, path)


def test_a_cache_whose_file_was_deleted_by_hand_carries_on_in_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    cache = LLMCache(path)
    cache.put(key(1), reply(1))
    path.unlink()
    assert cache.get(key(1)) is None
    cache.put(key(2), reply(2))
    assert LLMCache(path).get(key(2)) == reply(2)


# ---------------------------------------------------------------------- processes healing at once


def _open_in_child(path: str, tag: str, start: Any, out: Any) -> None:
    start.wait()
    cache = LLMCache(path)
    cache.put(key(tag), reply(tag))
    out.put((tag, cache.enabled, cache.get(key(tag)) == reply(tag), cache.warnings))


def _read_in_child(path: str, tag: str, opened: Any, damaged: Any, out: Any) -> None:
    cache = LLMCache(path)
    opened.wait()
    damaged.wait()
    for i in range(BIG):
        cache.get(key(i))
    cache.put(key(tag), reply(tag))
    out.put((tag, cache.enabled, cache.get(key(tag)) == reply(tag), cache.warnings))


def run_children(target: Any, args: list[tuple[Any, ...]], out: Any, during: Any = None) -> list[tuple[Any, ...]]:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    if during is not None:
        during()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return sorted(results)


def test_processes_opening_a_damaged_file_at_once_move_it_aside_once(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    original = b"SQLite format 3\x00" + os.urandom(8000)
    path.write_bytes(original)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(4), ctx.Queue()
    results = run_children(_open_in_child, [(str(path), f"p{i}", start, out) for i in range(4)], out)
    assert all(enabled and ok for _, enabled, ok, _ in results)
    [moved] = corrupt_files(path)
    assert moved.read_bytes() == original
    warnings = [w for *_, ws in results for w in ws]
    assert len(warnings) == 1 and str(moved) in warnings[0]
    final = LLMCache(path)
    assert final.warnings == [] and all(final.get(key(f"p{i}")) == reply(f"p{i}") for i in range(4))


def test_processes_meeting_damage_mid_run_keep_going_on_one_fresh_file(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    fill(path, BIG)
    ctx = multiprocessing.get_context("spawn")
    opened, damaged, out = ctx.Barrier(4), ctx.Barrier(4), ctx.Queue()

    def damage() -> None:
        opened.wait(timeout=60)
        overwrite_middle(path)
        damaged.wait(timeout=60)

    args = [(str(path), f"p{i}", opened, damaged, out) for i in range(3)]
    results = run_children(_read_in_child, args, out, during=damage)
    assert all(enabled and ok for _, enabled, ok, _ in results)
    assert len(corrupt_files(path)) == 1
    final = LLMCache(path)
    assert all(final.get(key(f"p{i}")) == reply(f"p{i}") for i in range(3))
    assert final.warnings == []
