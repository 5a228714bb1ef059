"""The pipeline: files → Documents → Units → Facts → grounded Facts → Flags, report by report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from auditor.checks import run_checks
from auditor.documents import SUFFIXES, load
from auditor.errors import AuditorError
from auditor.extract import ExtractConfig, Extractor, ExtractResult
from auditor.facts import Facts, count_values
from auditor.flags import Flag, Severity
from auditor.grounding import ground
from auditor.units import Unit, split


@dataclass
class UnitResult:
    """One row of reports.csv with the Flags and Facts behind it."""

    file: str
    unit: str
    status: str
    extractor: str
    seconds: float = 0.0
    detail: str = ""
    checks: list[Flag] = field(default_factory=list)
    facts: Facts | None = None
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    disagreements: int = 0
    tables: int = 0
    tables_uncertain: int = 0

    @property
    def flags(self) -> list[Flag]:
        """The rows of checks.csv that are findings (the rows of flags.csv)."""
        return [f for f in self.checks if f.flagged]

    @property
    def checked(self) -> int:
        """Relations the checks computed, pass or fail (a GROUNDING row counts dropped values, it verifies nothing)."""
        return sum(f.check != "GROUNDING" for f in self.checks)

    @property
    def errors(self) -> int:
        return sum(f.severity == Severity.ERROR for f in self.flags)

    @property
    def warnings(self) -> int:
        return sum(f.severity == Severity.WARNING for f in self.flags)

    def row(self) -> dict[str, object]:
        return {
            "file": self.file,
            "unit": self.unit,
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "facts": count_values(self.facts) if self.facts else "",
            "checked": self.checked if self.status != "failed" else "",
            "tables": self.tables if self.status != "failed" else "",
            "tables_uncertain": self.tables_uncertain if self.status != "failed" else "",
            "extractor": self.extractor,
            "seconds": f"{self.seconds:.2f}",
            "detail": self.detail,
            "dropped": self.facts.dropped if self.facts else "",
            "llm_calls": self.llm_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached": "yes" if self.cached else "no",
            "disagreements": self.disagreements,
        }


@dataclass
class AuditResult:
    units: list[UnitResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[Flag]:
        return [f for u in self.units for f in u.flags]

    @property
    def checks(self) -> list[Flag]:
        return [f for u in self.units for f in u.checks]

    @property
    def failed_files(self) -> set[str]:
        return {u.file for u in self.units if u.status == "failed"}

    @property
    def files(self) -> set[str]:
        return {u.file for u in self.units}


def make_extractor(config: ExtractConfig) -> Extractor:
    """The extractor the configuration asks for; llm and hybrid are imported only when used."""
    from auditor.extract.rules import RulesExtractor

    kind = config.resolved()
    if kind == "rules":
        return RulesExtractor()
    from auditor.extract.llm import LLMExtractor

    if kind == "llm":
        return LLMExtractor(config)
    from auditor.extract.merge import HybridExtractor

    return HybridExtractor(rules=RulesExtractor(), llm=LLMExtractor(config))


def discover(path: Path) -> tuple[list[Path], list[Path]]:
    """(report files, skipped files) under a path, sorted for a deterministic order."""
    if path.is_file():
        return ([path], []) if path.suffix.lower() in SUFFIXES else ([], [path])
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [p for p in files if p.suffix.lower() in SUFFIXES], [p for p in files if p.suffix.lower() not in SUFFIXES]


def _audit_unit(unit: Unit, extractor: Extractor, rel: str) -> UnitResult:
    t0 = time.perf_counter()
    try:
        res: ExtractResult = extractor.extract(unit)
        facts = ground(res.facts, unit)
        rows = run_checks(facts)
    except AuditorError as exc:
        return UnitResult(rel, unit.title, "failed", extractor.name, time.perf_counter() - t0, exc.reason)
    for f in rows:
        f.file, f.unit = rel, unit.title
    result = UnitResult(
        rel,
        unit.title,
        "",
        res.extractor,
        time.perf_counter() - t0,
        checks=rows,
        facts=facts,
        llm_calls=res.llm_calls,
        prompt_tokens=res.prompt_tokens,
        completion_tokens=res.completion_tokens,
        cached=res.cached,
        disagreements=res.disagreements,
        detail="；".join([*unit.doc.notes, *_table_notes(unit)]),
        tables=len(unit.tables),
        tables_uncertain=sum(1 for g in unit.tables if g.uncertain),
    )
    if any(f.severity != Severity.INFO for f in result.flags):
        result.status = "flagged"
    else:
        # "ok" promises that something was verified; a report no check could read says so.
        result.status = "ok" if result.checked else "unchecked"
    return result


def _table_notes(unit: Unit) -> list[str]:
    """What the auditor could not read in the Unit's tables, for the detail column."""
    notes = [f"表格（第{i}个）{g.uncertain}，未核对" for i, g in enumerate(unit.tables, 1) if g.uncertain]
    ragged = sum(len(g.ragged) for g in unit.tables if not g.uncertain)
    if ragged:
        notes.append(f"表格中{ragged}行缺少单元格、数字无法对应到列，这些行未核对")
    return notes


def _failed(rel: str, reason: str, extractor: str) -> UnitResult:
    return UnitResult(rel, "", "failed", extractor, 0.0, " ".join(reason.split()))


def iter_audit(
    path: Path, config: ExtractConfig | None = None, on_total: Callable[[int], None] | None = None
) -> Iterator[UnitResult]:
    """Audit every report under `path`, yielding Unit results in file order as soon as each is done."""
    config = config or ExtractConfig()
    path = Path(path)
    files, _skipped = discover(path)
    base = path if path.is_dir() else path.parent
    extractor = make_extractor(config)
    planned: list[tuple[str, list[Unit] | str]] = []
    for f in files:
        rel = f.relative_to(base).as_posix()
        try:
            units = split(load(f))
            planned.append((rel, units if units else "文件中没有可读的文字"))
        except AuditorError as exc:
            planned.append((rel, exc.reason))
        except Exception as exc:
            planned.append((rel, f"无法读取文件：{type(exc).__name__}"))
    if on_total:
        on_total(sum(len(u) if isinstance(u, list) else 1 for _, u in planned))
    with ThreadPoolExecutor(max_workers=max(1, config.concurrency)) as pool:
        futures: list[tuple[str, Future[UnitResult] | str]] = []
        for rel, units in planned:
            if isinstance(units, str):
                futures.append((rel, units))
            else:
                futures.extend((rel, pool.submit(_audit_unit, u, extractor, rel)) for u in units)
        for rel, fut in futures:
            if isinstance(fut, str):
                yield _failed(rel, fut, extractor.name)
                continue
            try:
                yield fut.result()
            except Exception as exc:
                yield _failed(rel, f"内部错误：{type(exc).__name__}: {exc}"[:200], extractor.name)


def audit_path(path: Path | str, config: ExtractConfig | None = None) -> AuditResult:
    """Audit a file or a directory and return every Unit's Facts and Flags (the library entry point)."""
    p = Path(path)
    result = AuditResult(units=list(iter_audit(p, config)))
    result.skipped = [s.as_posix() for s in discover(p)[1]]
    return result
