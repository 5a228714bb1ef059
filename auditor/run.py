"""A batch run: every report file under a path audited in worker processes, rows streamed to the output folder."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from auditor import __version__
from auditor.audit import (
    FileDone,
    FileTask,
    Found,
    UnitResult,
    audit_task,
    content_hash,
    discover,
    failed_result,
    make_extractor,
)
from auditor.errors import ConfigError
from auditor.extract import ExtractConfig
from auditor.report import RunFolder
from auditor.workbook import Baseline
from auditor.workers import Pool, default_jobs, preload

# Seconds one file may take: the rules read a long report in seconds; a model reads it in minutes.
RULES_TIMEOUT = 300.0
MODEL_TIMEOUT = 1800.0
FILE_MEMORY_MB = 2048


@dataclass
class BatchOptions:
    """How the batch runs: worker processes, the limits of one file, and whether to resume."""

    jobs: int = field(default_factory=default_jobs)
    file_timeout: float | None = None
    file_memory_mb: int = FILE_MEMORY_MB
    resume: bool = False
    html: bool = True  # report.html beside the CSVs
    baseline: Path | None = None  # a reviewed flags.xlsx: the flags it dismissed are left out

    def timeout_for(self, config: ExtractConfig) -> float:
        if self.file_timeout is not None:
            return self.file_timeout
        return RULES_TIMEOUT if config.resolved() == "rules" else MODEL_TIMEOUT


class Listener(Protocol):
    """What a front end hears of the run: the file count first, then each file as it starts and ends."""

    def total(self, files: int, resumed: list[dict[str, str]]) -> None:
        """The number of files, and the reports.csv rows of those a --resume keeps (already done)."""

    def start(self, name: str) -> None: ...

    def done(self, name: str, units: list[UnitResult]) -> None: ...


@dataclass
class BatchResult:
    found: Found
    resumed: int = 0
    audited: int = 0
    dismissed: int = 0  # flags left out because the --baseline workbook dismissed them
    page_seconds: float = 0.0  # what report.html cost (drawing evidence pages, then the page)
    kept_review: Path | None = None  # a reviewed flags.xlsx copied aside before the new one replaced it


def settings_key(config: ExtractConfig, baseline: str = "", html: bool = True) -> str:
    """What decides a file's results besides its bytes; --resume reuses rows only when this matches (a file
    audited without the review page has no view for it)."""
    parts = {
        "baseline": baseline,
        "html": html,
        "version": __version__,
        "extractor": config.resolved(),
        "model": config.model,
        "base_url": config.base_url,
        "mode": config.mode,
        "max_tokens": config.max_tokens,
        "chunk_chars": config.chunk_chars,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def run_batch(
    path: Path,
    out: Path,
    config: ExtractConfig,
    options: BatchOptions | None = None,
    listener: Listener | None = None,
) -> BatchResult:
    """Audit every report under `path` into `out`; usage errors are raised before the folder is touched."""
    options = options or BatchOptions()
    found = discover(Path(path), exclude=Path(out))
    if not found.files:
        if len(found.skipped) == 1 and not Path(path).is_dir():
            raise ConfigError(f"{found.skipped[0][0]}：{found.skipped[0][1]}，无法审核")
        raise ConfigError(f"{path} 中没有可审核的报告文件（PDF、Word、TXT、MD）")
    # A configuration that cannot work fails here, before the output is touched; the cache is left to the workers,
    # which say in the reports what they found wrong with it.
    make_extractor(replace(config, no_cache=True))
    baseline = Baseline.load(options.baseline) if options.baseline else None
    settings = settings_key(config, content_hash(options.baseline) if options.baseline else "", options.html)
    result = BatchResult(found)
    with RunFolder(out, html=options.html, baseline=baseline) as folder:
        keep = _unchanged(found, folder.previous(), settings) if options.resume else {}
        carried = folder.begin(keep)
        result.resumed = len(keep)
        if listener:
            listener.total(len(found.files), carried)
        todo = [(i, p, name) for i, (p, name) in enumerate(found.files) if name not in keep]
        jobs = min(options.jobs, max(1, len(todo)))
        # --concurrency bounds the model requests of the whole run: the workers share it.
        per_worker = replace(config, concurrency=max(1, config.concurrency // jobs))
        tasks = [FileTask(i, str(p), name, per_worker, review=options.html) for i, p, name in todo]
        modules = ["auditor.audit", "auditor.extract.rules", "auditor.checks", "pymupdf", "docx"]
        if config.resolved() != "rules":
            modules.append("auditor.extract.warm")  # instructor, openai and what they load lazily: ~1.5 s
        preload(modules)
        pool = Pool(
            audit_task,
            jobs=jobs,
            timeout=options.timeout_for(config),
            memory=options.file_memory_mb * 2**20,
            on_start=(lambda t: listener.start(t.rel)) if listener else None,
        )
        for outcome in pool.map(tasks):
            task: FileTask = outcome.task
            if outcome.failure:
                done = FileDone(task.index, task.rel, "", [failed_result(task.rel, outcome.failure, config.resolved())])
            else:
                done = outcome.value
            dismissed = _dismiss(done.units, baseline) if baseline is not None else 0
            result.dismissed += dismissed
            rows = [u.row() for u in done.units]
            checks = [f for u in done.units for f in u.checks]
            # A failed file is recorded but never kept by --resume: a timeout or a dead endpoint may not recur. A
            # file whose model failed (its rules results stand, with an LLM warning) is asked again too.
            failed = any(u.status == "failed" or any(f.check == "LLM" for f in u.checks) for u in done.units)
            record = {
                "file": done.rel,
                "sha256": done.sha256,
                "settings": settings,
                "failed": failed,
                "dismissed": dismissed,
            }
            folder.write(record, rows, checks, done.view)
            result.audited += 1
            if listener:
                listener.done(done.rel, done.units)
        # Kept rows of a --resume were written under this same baseline (it is part of the settings).
        result.dismissed += sum(int(r.get("dismissed") or 0) for r in keep.values())  # type: ignore[call-overload]
        folder.finish([name for _, name in found.files], result.dismissed)
        result.page_seconds = folder.page_seconds
        result.kept_review = folder.kept_review
    return result


def _dismiss(units: list[UnitResult], baseline: Baseline) -> int:
    """Mark the flags the reviewer dismissed and settle each Unit's status without them; returns how many."""
    count = 0
    for u in units:
        for f in u.checks:
            if f.flagged and baseline.dismissed(f.record()):
                f.dismissed = True
                count += 1
        u.settle()
    return count


def _hash_or_empty(path: str) -> str:
    try:
        return content_hash(path)
    except OSError:
        return ""


def _unchanged(found: Found, previous: dict[str, dict[str, object]], settings: str) -> dict[str, dict[str, object]]:
    """The records of files an earlier run audited without failure, with the same bytes and settings."""
    keep = {}
    for p, name in found.files:
        rec = previous.get(name)
        if not rec or rec.get("failed") or rec.get("settings") != settings or not rec.get("sha256"):
            continue
        if rec["sha256"] == _hash_or_empty(str(p)):
            keep[name] = rec
    return keep
