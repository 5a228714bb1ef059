"""A pool of worker processes, one task at a time each, every task bounded in wall-clock time and memory.

A task past its limit costs only its own worker: the worker is killed, the task gets a failure reason and
a fresh worker takes the next task. Workers are also replaced after a number of tasks, so memory a long
batch leaves behind in one process does not pile up.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

# A worker that runs out of memory exits with this code, so the parent can tell it from a crash.
_OUT_OF_MEMORY = 75
# How often the parent looks at its workers: a task that grows 1 GB/s overshoots its limit by 100 MB at most,
# and the parent's own cost stays under 1% of a core.
_POLL = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Outcome:
    """What became of one task: the function's return value, or why there is none."""

    task: Any
    value: Any = None
    failure: str = ""


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    task: Any = None
    started: float = 0.0
    done: int = 0


def _context() -> Any:
    # forkserver forks each worker from a clean server that has imported the pipeline once: cheap to
    # start, and safe while the parent runs threads (a progress bar). Elsewhere spawn is what exists.
    if "forkserver" in mp.get_all_start_methods():
        return mp.get_context("forkserver")
    return mp.get_context("spawn")


def preload(modules: list[str]) -> None:
    """Modules the forkserver imports once for all workers; only effective before the first pool starts."""
    if "forkserver" in mp.get_all_start_methods():
        mp.get_context("forkserver").set_forkserver_preload(modules)


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 where /proc is not available)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _limit_address_space(limit: int) -> None:
    # The parent polls memory every tenth of a second; this hard cap stops a task that grows faster than
    # that from taking the machine down in between. Address space runs well above resident memory (glibc
    # arenas, MuPDF's reservations): three times the limit leaves room for them and still bounds a runaway.
    try:
        import resource
    except ImportError:
        return
    with contextlib.suppress(ValueError, OSError):
        with open("/proc/self/statm", "rb") as fh:
            base = int(fh.read().split()[0]) * _PAGE
        cap = base + 3 * limit
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _die_with_owner(owner: int) -> None:
    """Exit when the run that owns this worker is gone (kill -9, the OOM killer): nobody watches its limits then.

    The worker's parent is the forkserver, which itself lives as long as any worker does, so the run's own
    process is what is watched."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass  # alive, owned by someone else: cannot happen for our own parent run, keep watching

    threading.Thread(target=watch, daemon=True, name="owner-watch").start()


def _worker_main(conn: Connection, fn: Callable[[Any], Any], memory_limit: int, owner: int) -> None:
    # Ctrl-C goes to the whole process group; the parent decides what stops, workers just get killed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_owner(owner)
    if memory_limit:
        _limit_address_space(memory_limit)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            value = fn(task)
        except MemoryError:
            os._exit(_OUT_OF_MEMORY)
        except BaseException as exc:  # the function should catch its own errors; this keeps the worker alive
            value = _Crash(f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send(value)
        except MemoryError:
            os._exit(_OUT_OF_MEMORY)
        except (OSError, EOFError):
            return


@dataclass
class _Crash:
    reason: str


class Pool:
    """Runs `fn(task)` for every task in up to `jobs` worker processes and yields Outcomes as tasks finish.

    `timeout` is seconds per task and `memory` bytes of resident memory per worker (0 turns a limit off).
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        *,
        jobs: int,
        timeout: float = 0.0,
        memory: int = 0,
        recycle_after: int = 200,
        on_start: Callable[[Any], None] | None = None,
    ) -> None:
        self.fn = fn
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.memory = memory
        self.recycle_after = recycle_after
        self.on_start = on_start
        self._ctx = _context()
        self._workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, args=(child, self.fn, self.memory, os.getpid()), daemon=True)
        proc.start()
        child.close()
        w = _Worker(proc, parent)
        self._workers.append(w)
        return w

    def _retire(self, w: _Worker, *, kill: bool) -> None:
        self._workers.remove(w)
        if kill:
            with contextlib.suppress(OSError, ValueError):
                w.proc.kill()
        else:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send(None)
        w.proc.join(timeout=5)
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join(timeout=5)
        w.conn.close()
        w.proc.close()

    def close(self) -> None:
        """Stop every worker now (used on interrupt and at the end)."""
        for w in list(self._workers):
            self._retire(w, kill=w.task is not None)

    def map(self, tasks: Iterable[Any]) -> Iterator[Outcome]:
        """Outcomes in the order tasks finish; closing the iterator early stops the workers."""
        pending = iter(tasks)
        queue: deque[Any] = deque()
        exhausted = False

        def next_task() -> tuple[bool, Any]:
            nonlocal exhausted
            if queue:
                return True, queue.popleft()
            if exhausted:
                return False, None
            try:
                return True, next(pending)
            except StopIteration:
                exhausted = True
                return False, None

        try:
            while True:
                for w in [w for w in self._workers if w.task is None]:
                    ok, task = next_task()
                    if not ok:
                        break
                    self._send(w, task, queue)
                while len(self._workers) < self.jobs:
                    ok, task = next_task()
                    if not ok:
                        break
                    self._send(self._spawn(), task, queue)
                busy = [w for w in self._workers if w.task is not None]
                if not busy:
                    if queue or not exhausted:
                        continue
                    return
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=_POLL)
                now = time.monotonic()
                for w in busy:
                    outcome = self._check(w, ready, now)
                    if outcome is not None:
                        yield outcome
        finally:
            self.close()

    def _send(self, w: _Worker, task: Any, queue: deque[Any]) -> None:
        try:
            w.conn.send(task)
        except OSError:
            # The worker died while idle; put the task back and let a fresh worker take it.
            self._retire(w, kill=True)
            queue.appendleft(task)
            return
        w.task, w.started = task, time.monotonic()
        if self.on_start:
            self.on_start(task)

    def _check(self, w: _Worker, ready: list[Any], now: float) -> Outcome | None:
        task = w.task
        if w.conn in ready:
            try:
                value = w.conn.recv()
            except (EOFError, OSError):
                return self._died(w)
            except Exception as exc:  # a reply that does not unpickle
                self._retire(w, kill=True)
                return Outcome(task, failure=f"内部错误：结果无法传回（{type(exc).__name__}）")
            w.task = None
            w.done += 1
            if w.done >= self.recycle_after:
                self._retire(w, kill=False)
            if isinstance(value, _Crash):
                return Outcome(task, failure=f"内部错误：{value.reason}")
            return Outcome(task, value=value)
        if w.proc.sentinel in ready or not w.proc.is_alive():
            return self._died(w)
        if self.timeout and now - w.started > self.timeout:
            self._retire(w, kill=True)
            return Outcome(task, failure=f"超时：超过 {self.timeout:g} 秒未完成，已终止")
        if self.memory and rss(w.proc.pid) > self.memory:
            self._retire(w, kill=True)
            return Outcome(task, failure=f"内存超限：超过 {self.memory // 2**20} MB，已终止")
        return None

    def _died(self, w: _Worker) -> Outcome:
        task = w.task
        w.proc.join(timeout=5)
        code = w.proc.exitcode
        self._retire(w, kill=True)
        if code == _OUT_OF_MEMORY:
            return Outcome(task, failure=f"内存超限：超过 {self.memory // 2**20} MB，已终止")
        if code == -signal.SIGKILL:
            return Outcome(task, failure="工作进程被系统终止（可能是内存不足）")
        return Outcome(task, failure=f"工作进程意外退出（退出码 {code}）")


def default_jobs() -> int:
    """The number of cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
