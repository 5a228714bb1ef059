"""The pipeline: files → Documents → Units → Facts → grounded Facts → Flags, report by report."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from auditor.checks import run_checks
from auditor.documents import SUFFIXES, Document, load
from auditor.errors import AuditorError
from auditor.extract import ExtractConfig, Extractor, ExtractResult
from auditor.facts import Facts, count_values
from auditor.flags import Flag, Severity
from auditor.grounding import ground
from auditor.report import safe_cell
from auditor.review import file_view
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
    # Counted where the Facts are made, so a result sent back from a worker process needs no Facts.
    fact_count: int | None = None
    dropped: int | None = None

    @property
    def flags(self) -> list[Flag]:
        """The rows of checks.csv that are findings (the rows of flags.csv)."""
        return [f for f in self.checks if f.flagged]

    @property
    def checked(self) -> int:
        """Relations the checks computed, pass or fail (a GROUNDING row counts dropped values and an LLM row names
        a model that failed: neither verifies anything)."""
        return sum(f.check not in ("GROUNDING", "LLM") for f in self.checks)

    @property
    def errors(self) -> int:
        return sum(f.severity == Severity.ERROR for f in self.flags)

    @property
    def warnings(self) -> int:
        return sum(f.severity == Severity.WARNING for f in self.flags)

    def settle(self) -> None:
        """Set the status from the flags (again after a reviewer's baseline dismissed some)."""
        if self.status == "failed":
            return
        if any(f.severity != Severity.INFO for f in self.flags):
            self.status = "flagged"
        else:
            # "ok" promises that something was verified; a report no check could read says so.
            self.status = "ok" if self.checked else "unchecked"

    def row(self) -> dict[str, object]:
        return {
            "file": self.file,
            "unit": self.unit,
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "facts": self.fact_count if self.fact_count is not None else "",
            "checked": self.checked if self.status != "failed" else "",
            "tables": self.tables if self.status != "failed" else "",
            "tables_uncertain": self.tables_uncertain if self.status != "failed" else "",
            "extractor": self.extractor,
            "seconds": f"{self.seconds:.2f}",
            "detail": self.detail,
            "dropped": self.dropped if self.dropped is not None else "",
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
    """The extractor the configuration asks for: the rules, or the rules with a model (imported only when used)."""
    from auditor.extract.rules import RulesExtractor

    if config.resolved() == "rules":
        return RulesExtractor()
    from auditor.extract.llm import LLMExtractor
    from auditor.extract.merge import HybridExtractor

    return HybridExtractor(rules=RulesExtractor(), llm=LLMExtractor(config))


def _audit_unit(unit: Unit, extractor: Extractor, rel: str, extracted: ExtractResult | None = None) -> UnitResult:
    t0 = time.perf_counter()
    try:
        res: ExtractResult = extracted if extracted is not None else extractor.extract(unit)
        facts = ground(res.facts, unit)
        added = ground(res.added, unit) if res.added is not None else None
        if added is not None:
            # One GROUNDING row for the Unit, whoever read the values it counts.
            facts = facts.model_copy(update={"dropped": facts.dropped + added.dropped})
            added = added.model_copy(update={"dropped": 0})
        rows = run_checks(facts)
    except AuditorError as exc:
        return UnitResult(rel, unit.title, "failed", extractor.name, time.perf_counter() - t0, exc.reason)
    warnings = list(res.warnings)
    if added is not None:
        rows.extend(_added_rows(added, rows, warnings))
    rows.extend(Flag(check="LLM", severity=Severity.WARNING, message=w) for w in warnings)
    for f in rows:
        f.file, f.unit = rel, unit.title
        f.quotes = [q if q.start is None else replace(q, location=unit.doc.locate(q.start, q.end)) for q in f.quotes]
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
        detail="；".join([*unit.doc.notes, *_table_notes(unit), *res.notes]),
        tables=len(unit.tables),
        tables_uncertain=sum(1 for g in unit.tables if g.uncertain),
        fact_count=count_values(facts) + (count_values(added) if added is not None else 0),
        dropped=facts.dropped,
    )
    result.settle()
    return result


def _added_rows(added: Facts, rows: list[Flag], warnings: list[str]) -> list[Flag]:
    """The rows of the model's relations, checked on their own: they add to the rules' rows and never change
    them. A row the rules' Facts already gave is not repeated; checks that fail on the model's Facts cost only
    the model's rows."""
    try:
        extra = run_checks(added)
    except Exception as exc:
        warnings.append(f"模型读出的关系无法核对（{type(exc).__name__}）；本报告只有规则读出的结果")
        return []
    seen = {(f.check, f.stated, f.computed, f.evidence) for f in rows}
    return [f for f in extra if (f.check, f.stated, f.computed, f.evidence) not in seen]


def _table_notes(unit: Unit) -> list[str]:
    """What the auditor could not read in the Unit's tables, for the detail column."""
    notes = [f"表格（第{i}个）{g.uncertain}，未核对" for i, g in enumerate(unit.tables, 1) if g.uncertain]
    ragged = sum(len(g.ragged) for g in unit.tables if not g.uncertain)
    if ragged:
        notes.append(f"表格中{ragged}行缺少单元格、数字无法对应到列，这些行未核对")
    return notes


def failed_result(rel: str, reason: str, extractor: str) -> UnitResult:
    """The one row of a file that could not be audited, its reason on one line."""
    return UnitResult(rel, "", "failed", extractor, 0.0, " ".join(reason.split()))


# --------------------------------------------------------------------------- finding the files


@dataclass
class Found:
    """The report files under a path, each with the name shown for it, and what was skipped and why."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


NOT_A_REPORT = "不是报告文件"


def shown(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (a GBK name from a Windows share) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def discover(path: Path, exclude: Path | None = None) -> Found:
    """Every report file under `path` in a deterministic order, each under a name no other file shows; links to
    folders are not followed, and links that loop or dangle, pipes, devices and unreadable folders are skipped
    with a reason. The folder `exclude` (the run's own output) is left out."""
    found = Found()
    path = Path(path)
    base = path if path.is_dir() else path.parent
    skip_dir = os.path.realpath(exclude) if exclude is not None else None
    taken: set[str] = set()

    def unique(name: str) -> str:
        # Two names can show alike: bytes that are not UTF-8 both become U+FFFD, and the CSV's formula guard
        # writes "=a.txt" as "'=a.txt". Rows, resume records and the summary need one name per file.
        shown_as, k = name, 1
        while safe_cell(shown_as) in taken:
            k += 1
            stem, dot, suffix = name.rpartition(".")
            shown_as = f"{stem}（{k}）.{suffix}" if dot else f"{name}（{k}）"
        taken.add(safe_cell(shown_as))
        return shown_as

    def rel(p: str) -> str:
        return shown(Path(p).relative_to(base).as_posix()) if p != str(base) else shown(Path(p).name or p)

    def add(p: str, mode: int) -> None:
        if stat.S_ISREG(mode):
            suffix = Path(p).suffix.lower()
            if suffix in SUFFIXES:
                found.files.append((Path(p), unique(rel(p))))
            else:
                found.skipped.append((rel(p), f"{NOT_A_REPORT}（后缀 {shown(suffix) or '无'}）"))
        elif stat.S_ISDIR(mode):
            found.skipped.append((rel(p), "指向目录的链接，未跟随"))
        elif stat.S_ISFIFO(mode):
            found.skipped.append((rel(p), "命名管道，不是普通文件"))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            found.skipped.append((rel(p), "设备文件，不是普通文件"))
        else:
            found.skipped.append((rel(p), "不是普通文件"))

    def visit(p: str, *, top: bool = False) -> None:
        try:
            st = os.lstat(p)
        except OSError as exc:
            found.skipped.append((rel(p), _os_reason(exc)))
            return
        if stat.S_ISLNK(st.st_mode):
            try:
                st = os.stat(p)
            except OSError as exc:
                found.skipped.append((rel(p), _os_reason(exc, link=True)))
                return
            if stat.S_ISDIR(st.st_mode) and not top:
                add(p, st.st_mode)
                return
        if stat.S_ISDIR(st.st_mode):
            if skip_dir is not None and os.path.realpath(p) == skip_dir:
                return
            try:
                names = sorted(os.listdir(p))
            except OSError as exc:
                found.skipped.append((rel(p), "无法打开目录：" + _os_reason(exc)))
                return
            for name in names:
                if not name.startswith("."):
                    visit(os.path.join(p, name))
            return
        add(p, st.st_mode)

    visit(str(path), top=True)
    return found


def _os_reason(exc: OSError, *, link: bool = False) -> str:
    if exc.errno == errno.ELOOP:
        return "符号链接循环"
    if link and exc.errno == errno.ENOENT:
        return "链接指向的文件不存在"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "没有读取权限"
    return f"无法访问（{exc.strerror or type(exc).__name__}）"


# --------------------------------------------------------------------------- one file, end to end


def audit_file(
    path: Path, rel: str, config: ExtractConfig, extractor: Extractor | None = None, pool: Executor | None = None
) -> list[UnitResult]:
    """Load, split, extract and check one file; a file that cannot be read gives one failed row with the reason.

    With a model, the Units go to `pool` (shared by the files of one process) or to a pool of --concurrency threads."""
    return _audit_document(path, rel, config, extractor, pool)[2]


def _audit_document(
    path: Path, rel: str, config: ExtractConfig, extractor: Extractor | None = None, pool: Executor | None = None
) -> tuple[Document | None, list[Unit], list[UnitResult]]:
    """`audit_file` with the Document and its Units (None and [] when the file could not be read)."""
    extractor = extractor or _extractor(config)
    try:
        doc = load(path)
        units = split(doc)
    except AuditorError as exc:
        return None, [], [failed_result(rel, exc.reason, extractor.name)]
    except MemoryError:
        raise
    except Exception as exc:
        return None, [], [failed_result(rel, f"无法读取文件：{type(exc).__name__}", extractor.name)]
    if not units:
        return doc, [], [failed_result(rel, "文件中没有可读的文字", extractor.name)]
    # Shown names carry U+FFFD only where the name's bytes were not UTF-8.
    note = ["文件名不是UTF-8编码，无法识别的字符显示为�"] if "\ufffd" in rel else []
    extracted: list[ExtractResult | None] = [None] * len(units)
    extract_all = getattr(extractor, "extract_all", None)
    if extract_all is not None:
        # A model reads the file's Units together: small ones share a request, requests run at once on `pool`.
        started = time.perf_counter()
        try:
            # A Unit whose extraction raised is extracted again on its own below, and fails alone.
            extracted = [e if isinstance(e, ExtractResult) else None for e in extract_all(units, pool)]
        except MemoryError:
            raise
        except Exception as exc:
            return doc, units, [failed_result(rel, f"内部错误：{type(exc).__name__}: {exc}"[:200], extractor.name)]
        shared = (time.perf_counter() - started) / len(units)
    results = [_guarded(u, extractor, rel, e) for u, e in zip(units, extracted, strict=True)]
    if extract_all is not None:
        for r in results:
            r.seconds += shared
    for r in results:
        if note:
            r.detail = "；".join([*note, r.detail] if r.detail else note)
    return doc, units, results


def _guarded(unit: Unit, extractor: Extractor, rel: str, extracted: ExtractResult | None = None) -> UnitResult:
    try:
        return _audit_unit(unit, extractor, rel, extracted)
    except MemoryError:
        raise
    except Exception as exc:
        return failed_result(rel, f"内部错误：{type(exc).__name__}: {exc}"[:200], extractor.name)


_EXTRACTORS: dict[str, Extractor] = {}


def _extractor(config: ExtractConfig) -> Extractor:
    # One extractor per configuration and process: the LLM one holds an HTTP client and a cache.
    key = repr(config) + str(id(config.api_key))
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = make_extractor(config)
    return _EXTRACTORS[key]


@dataclass
class FileTask:
    """One file for a worker process: where it is, the name it is shown under and how to extract."""

    index: int
    path: str
    rel: str
    config: ExtractConfig
    review: bool = False  # keep a view of the file for report.html


@dataclass
class FileDone:
    """A worker's answer: the file's content hash and its Unit results, without the Facts (checks keep
    their evidence; the Facts stay in the worker)."""

    index: int
    rel: str
    sha256: str
    units: list[UnitResult]
    view: dict[str, object] | None = None


def content_hash(path: Path | str) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def audit_task(task: FileTask) -> FileDone:
    """What a worker process runs for one file."""
    try:
        sha = content_hash(task.path)
    except OSError as exc:
        return FileDone(task.index, task.rel, "", [failed_result(task.rel, _os_reason(exc), task.config.resolved())])
    doc, units, results = _audit_document(Path(task.path), task.rel, task.config)
    view = None
    if task.review and doc is not None and units:
        try:
            spans = [(u.title, u.start, u.end) for u in units]
            view = file_view(doc, spans, [f for r in results for f in r.checks])
        except MemoryError:
            raise
        except Exception:
            view = None  # the page then lists the file without its text; its rows are unaffected
    for r in results:
        r.facts = None
    return FileDone(task.index, task.rel, sha, results, view)


def _audit_found(found: Found, config: ExtractConfig) -> Iterator[UnitResult]:
    """The found files audited in this process, Unit results in file order."""
    extractor = make_extractor(config)
    files = found.files
    if extractor.name == "rules" or config.concurrency <= 1:
        for file, rel in files:
            yield from audit_file(file, rel, config, extractor)
        return
    # A model's requests wait on the network: several files are read at once, and their Units share one pool of
    # --concurrency threads, so requests stay at that many in flight whatever the files hold.
    with ThreadPoolExecutor(config.concurrency) as units, ThreadPoolExecutor(config.concurrency) as readers:
        futures = [readers.submit(audit_file, file, rel, config, extractor, units) for file, rel in files]
        for fut in futures:
            yield from fut.result()


def audit_path(path: Path | str, config: ExtractConfig | None = None) -> AuditResult:
    """Audit a file or a directory in this process and return every Unit's Facts and Flags (the library entry point)."""
    found = discover(Path(path))
    result = AuditResult(units=list(_audit_found(found, config or ExtractConfig())))
    result.skipped = [name for name, _ in found.skipped]
    return result
