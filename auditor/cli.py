"""The `audit` command: parse options, make one library call, turn errors into one line."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, Protocol, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from auditor import __version__
from auditor.audit import NOT_A_REPORT, Found, UnitResult
from auditor.errors import AuditorError, OutputError
from auditor.extract import ExtractConfig
from auditor.flags import Flag
from auditor.run import FILE_MEMORY_MB, MODEL_TIMEOUT, RULES_TIMEOUT, BatchOptions, BatchResult, run_batch

# Typer prints a few words of its own (usage line, panel titles, the help option) in English; the tool
# speaks Chinese throughout. The vendored click is private to Typer, so each patch is guarded: a Typer
# release that moves it costs only the translation.
_TYPER_ZH = {
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "用 [blue]'{command_path} {help_option}'[/] 查看帮助。",
}


def _speak_chinese() -> None:
    import typer.rich_utils

    for name, text in _TYPER_ZH.items():
        if hasattr(typer.rich_utils, name):
            setattr(typer.rich_utils, name, text)
    try:
        from typer._click.core import Command
        from typer._click.formatting import HelpFormatter
    except ImportError:
        return
    get_help_option = Command.get_help_option
    write_usage = HelpFormatter.write_usage

    def chinese_help_option(self, ctx):  # type: ignore[no-untyped-def]
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = "显示本帮助并退出。"
        return option

    def chinese_usage(self, prog, args="", prefix=None):  # type: ignore[no-untyped-def]
        return write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    Command.get_help_option = chinese_help_option  # type: ignore[method-assign]
    HelpFormatter.write_usage = chinese_usage  # type: ignore[method-assign]


_speak_chinese()

# soft_wrap: a line piped to a file or another program is never broken at 80 columns.
err = Console(stderr=True, soft_wrap=True, highlight=False)
app = typer.Typer(add_completion=False, help="核查绩效自评报告中的自相矛盾之处。")
eval_app = typer.Typer(add_completion=False, help="按标注关系评估检出情况。")


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


class ExtractorChoice(StrEnum):
    auto = "auto"
    rules = "rules"
    llm = "llm"
    hybrid = "hybrid"


class Mode(StrEnum):
    tools = "tools"
    json = "json"
    md_json = "md_json"


class _OfFile(Protocol):
    file: str


_T = TypeVar("_T", bound=_OfFile)
EXIT_OK, EXIT_FLAGS, EXIT_USAGE, EXIT_FAILED, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


@dataclass
class _Line:
    """What the summary and the exit code need of one report (the rest is on disk)."""

    file: str
    unit: str
    status: str
    errors: int
    warnings: int
    checked: int
    detail: str

    @classmethod
    def of(cls, u: UnitResult) -> _Line:
        return cls(u.file, u.unit, u.status, u.errors, u.warnings, u.checked, u.detail)

    @classmethod
    def from_row(cls, row: dict[str, str]) -> _Line:
        """A reports.csv row a --resume kept: it counts in the summary and the exit code like a fresh one."""

        def number(key: str) -> int:
            value = row.get(key) or ""
            return int(value) if value.isdigit() else 0

        file = row.get("file", "")
        if file[:1] == "'" and file[1:2] in ("=", "+", "-", "@", "\t", "\r"):
            file = file[1:]  # the formula guard's quote, not the file's
        return cls(
            file,
            row.get("unit", ""),
            row.get("status", ""),
            number("errors"),
            number("warnings"),
            number("checked"),
            row.get("detail", ""),
        )


def _plain(text: str) -> str:
    """Text for the terminal: control characters (a newline or an escape sequence in a file name) become �,
    and rich's markup brackets are escaped, so every summary line is one line and means what it says."""
    return escape("".join("\ufffd" if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text))


class _Front:
    """The progress bar and the lines a person reads while the batch runs; keeps only what the summary needs."""

    def __init__(self, quiet: bool, keep_results: bool = False) -> None:
        self.quiet = quiet
        self.keep_results = keep_results
        self.units: list[UnitResult] = []  # only with keep_results (audit eval scores every check row)
        self.lines: list[_Line] = []
        self.files = 0
        self.resumed = 0
        self.in_hand: list[str] = []
        self.progress = Progress(
            TextColumn("[bold]审核"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err,
            disable=quiet or not err.is_terminal,
            transient=True,
        )
        self.task = self.progress.add_task("查找文件…", total=None)

    def total(self, files: int, resumed: list[dict[str, str]]) -> None:
        self.files = files
        self.resumed = len({r.get("file") for r in resumed})
        self.lines.extend(_Line.from_row(r) for r in resumed)
        self.progress.update(self.task, total=files, completed=self.resumed, description="")

    def start(self, name: str) -> None:
        self.in_hand.append(name)
        self._show()

    def _show(self) -> None:
        # The file in hand longest is the one a person wonders about; the others are counted.
        more = f" 等{len(self.in_hand)}个" if len(self.in_hand) > 1 else ""
        self.progress.update(self.task, description=_plain(self.in_hand[0]) + more if self.in_hand else "")

    def done(self, name: str, units: list[UnitResult]) -> None:
        if name in self.in_hand:
            self.in_hand.remove(name)
        self._show()
        self.progress.advance(self.task)
        for u in units:
            self.lines.append(_Line.of(u))
            if self.keep_results:
                self.units.append(u)
            if u.status == "failed" and not self.quiet and err.is_terminal:
                self.progress.console.print(f"[red]无法审核[/red] {_plain(name)}：{_plain(u.detail)}")


def _in_file_order(items: list[_T], found: Found) -> list[_T]:
    """Results in the order of the files (workers finish in any order); a file's Units keep theirs."""
    order = {name: i for i, (_, name) in enumerate(found.files)}
    return sorted(items, key=lambda u: order.get(u.file, 0))


def _summary(front: _Front, result: BatchResult, out: Path, html: bool) -> None:
    found, lines = result.found, front.lines
    count = {s: sum(u.status == s for u in lines) for s in ("ok", "flagged", "unchecked", "failed")}
    problems = [u for u in _in_file_order(lines, found) if u.status in ("flagged", "failed")]
    if problems:
        err.print("[bold]需要查看的报告：[/bold]")
    for u in problems:
        name = _plain(u.file + (f" · {u.unit[:40]}" if u.unit else ""))
        if u.status == "failed":
            err.print(f"  [red]无法审核[/red] {name}：{_plain(u.detail)}")
        else:
            err.print(f"  [yellow]有问题[/yellow] {name}：{u.errors} 个错误，{u.warnings} 个警告")
    for name, reason in found.skipped:
        if not reason.startswith(NOT_A_REPORT):
            err.print(f"  [dim]已跳过[/dim] {_plain(name)}：{_plain(reason)}")
    resumed = f"（其中 {front.resumed} 个沿用上次结果）" if front.resumed else ""
    err.print(
        f"{len(found.files)} 个文件{resumed}，{len(lines)} 份报告：{count['flagged']} 份有问题"
        f"（{sum(u.errors for u in lines)} 个错误，{sum(u.warnings for u in lines)} 个警告），"
        f"{count['failed']} 份无法审核，{count['ok']} 份核对无误，{count['unchecked']} 份未能核对任何数字；"
        f"跳过 {len(found.skipped)} 个其他文件。共核对 {sum(u.checked for u in lines)} 处。"
    )
    if result.dismissed:
        err.print(f"按复核底稿（--baseline）略去 {result.dismissed} 条已排除的问题。")
    if result.kept_review:
        err.print(f"原 flags.xlsx 中已有复核结论，已另存为 {_plain(str(result.kept_review))}。")
    names = ["flags.xlsx", *(["report.html"] if html else []), "flags.csv", "checks.csv", "reports.csv"]
    err.print("结果：" + "，".join(_plain(str(out / n)) for n in names))


def _exit_code(lines: list[_Line], fail_on: FailOn) -> int:
    """3 when a file could not be audited, else 1 when a flag reaches --fail-on, else 0."""
    if any(u.status == "failed" for u in lines):
        return EXIT_FAILED
    if fail_on == FailOn.error and any(u.errors for u in lines):
        return EXIT_FLAGS
    if fail_on == FailOn.warning and any(u.errors or u.warnings for u in lines):
        return EXIT_FLAGS
    return EXIT_OK


def _batch(
    path: Path, out: Path, config: ExtractConfig, options: BatchOptions, front: _Front, debug: bool
) -> BatchResult:
    """Run the batch; every way it can stop becomes one line and an exit code."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        with front.progress:
            return run_batch(path, out, config, options, front)
    except OutputError as exc:
        _fail(exc, debug, EXIT_OUTPUT)
    except AuditorError as exc:
        _fail(exc, debug, EXIT_USAGE)
    except KeyboardInterrupt:
        err.print(
            f"[red]已中断。[/red]已完成的 {len(front.lines)} 份报告在 {_plain(str(out))} 的 *.partial.csv 中；"
            "加 --resume 重新运行可接着审核。"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    # `kill` (SIGTERM) stops a run the way Ctrl-C does: workers stopped, partial results kept for --resume.
    raise KeyboardInterrupt


def _fail(exc: AuditorError, debug: bool, code: int) -> NoReturn:
    if debug:
        traceback.print_exc()
    err.print(f"[red]错误：[/red]{escape(exc.reason)}")
    raise typer.Exit(code) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditor {__version__}")
        raise typer.Exit()


@app.command(epilog="另有子命令 audit eval LABELS DIR：按标注关系评估检出情况（audit eval --help）。")
def audit(
    path: Annotated[Path, typer.Argument(help="报告文件或目录（PDF、Word、TXT、MD）")],
    out: Annotated[Path, typer.Option("-o", "--out", help="输出目录")] = Path("out"),
    fail_on: Annotated[FailOn, typer.Option(help="出现该级别及以上的标记时退出码为1")] = FailOn.error,
    jobs: Annotated[
        int | None,
        typer.Option(
            "-j",
            "--jobs",
            min=1,
            max=256,
            help="同时审核的文件数（工作进程数），默认为CPU核数（用模型时为--concurrency）",
        ),
    ] = None,
    file_timeout: Annotated[
        float | None,
        typer.Option(min=1, help=f"单个文件的时间上限（秒），默认：规则{RULES_TIMEOUT:g}，模型{MODEL_TIMEOUT:g}"),
    ] = None,
    file_memory: Annotated[
        int, typer.Option(min=256, help="单个文件的内存上限（MB，工作进程的常驻内存，含约80 MB的程序本身）")
    ] = FILE_MEMORY_MB,
    resume: Annotated[
        bool, typer.Option("--resume", help="接着上次（中断的或已完成的）运行：内容和设置都未变的文件不再审核")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(help="已复核的 flags.xlsx：其中结论为“排除”的问题（按文件、检查和证据匹配）不再列出"),
    ] = None,
    no_html: Annotated[bool, typer.Option("--no-html", help="不生成 report.html 复核页面")] = False,
    extractor: Annotated[
        ExtractorChoice,
        typer.Option(help="抽取方式：规则总会运行；配置了模型时 auto、hybrid、llm 都是规则加模型（模型只能补充）"),
    ] = ExtractorChoice.auto,
    model: Annotated[str | None, typer.Option(envvar="AUDITOR_MODEL", help="模型名")] = None,
    base_url: Annotated[str | None, typer.Option(envvar="OPENAI_BASE_URL", help="OpenAI兼容接口地址")] = None,
    mode: Annotated[Mode, typer.Option(help="Instructor模式")] = Mode.tools,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="整个运行同时发出的LLM请求数上限")] = 1,
    cache_dir: Annotated[Path | None, typer.Option(help="LLM缓存目录")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="不读写LLM缓存")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="每次LLM请求的超时秒数")] = 60.0,
    max_tokens: Annotated[int | None, typer.Option(min=64, help="LLM回复的最大token数")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="不显示进度和汇总")] = False,
    debug: Annotated[bool, typer.Option(help="出错时显示完整调用栈")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本并退出")
    ] = False,
) -> None:
    """审核PATH下的报告，写出 OUT/flags.xlsx（复核底稿）、OUT/report.html（复核页面）和四个数据文件。

    数据文件：flags.csv、checks.csv、reports.csv、flags.jsonl。

    退出码：0 无问题；1 有 --fail-on 级别的标记；2 用法错误；3 有文件无法审核；4 结果无法写出；130 被中断。
    """
    if not path.exists() and not path.is_symlink():
        err.print(f"[red]错误：[/red]找不到 {escape(str(path))}")
        raise typer.Exit(EXIT_USAGE)
    config = ExtractConfig(
        extractor=extractor.value,
        model=model,
        base_url=base_url,
        api_key=os.environ.get("OPENAI_API_KEY"),
        mode=mode.value,
        concurrency=concurrency,
        cache_dir=str(cache_dir) if cache_dir else None,
        no_cache=no_cache,
        timeout=timeout,
        max_tokens=max_tokens,
    )
    options = BatchOptions(
        file_timeout=file_timeout,
        file_memory_mb=file_memory,
        resume=resume,
        html=not no_html,
        baseline=baseline,
    )
    if jobs:
        options.jobs = jobs
    elif config.resolved() != "rules":
        # A model's workers wait on the network, not the CPU: --concurrency files in flight, one request each.
        options.jobs = concurrency
    front = _Front(quiet)
    result = _batch(path, out, config, options, front, debug)
    if not quiet:
        _summary(front, result, out, options.html)
    raise typer.Exit(_exit_code(front.lines, fail_on))


@eval_app.command()
def evaluate(
    labels: Annotated[Path, typer.Argument(help="标注文件（JSONL）")],
    path: Annotated[Path, typer.Argument(help="报告目录")],
    out: Annotated[Path, typer.Option("-o", "--out", help="输出目录")] = Path("out/eval"),
    as_json: Annotated[bool, typer.Option("--json", help="以JSON输出各项数字（供脚本使用）")] = False,
) -> None:
    """审核PATH并按LABELS评分：列出漏报、误报与覆盖率，最后一行给出数字。"""
    from auditor.evaluate import load_labels, score

    try:
        labelled = load_labels(labels)
    except AuditorError as exc:
        _fail(exc, False, EXIT_USAGE)
    front = _Front(quiet=True, keep_results=True)
    found = _batch(path, out, ExtractConfig(extractor="rules"), BatchOptions(html=False), front, False).found
    results = _in_file_order(front.units, found)
    rows = [f for r in results for f in r.checks]
    s = score(rows, labelled, {r.file for r in results})
    if as_json:
        figures = s.figures()
        figures["missed"] = [_relation(rel) for rel in s.missed]
        figures["false_alarm_flags"] = [_stray(flag, rel) for flag, rel in s.false_alarms]
        figures["debatable_flag_list"] = [_stray(flag, rel) for flag, rel in s.debatable]
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=1))
    else:
        for rel in s.missed:
            typer.echo(f"漏报 {rel['file']} [{rel['kind']}] stated={rel['stated']}: {rel['quote']}")
        for flag, rel in s.false_alarms:
            why = f"标注成立: {rel['formula']}" if rel else "无对应标注：误报或漏标"
            typer.echo(f"误报 {flag.file} {flag.check} stated={flag.stated}: {flag.evidence[:80]} ({why})")
        for flag, rel in s.debatable:
            typer.echo(
                f"存疑 {flag.file} {flag.check} stated={flag.stated}: {flag.evidence[:60]} (标注存疑: {rel['formula']})"
            )
        for kind, k in sorted(s.kinds.items()):
            typer.echo(f"覆盖 [{kind}] {k.covered}/{k.holding} = {k.coverage:.2f}")
        for region, k in sorted(s.regions.items()):
            typer.echo(f"覆盖 <{region}> {k.covered}/{k.holding} = {k.coverage:.2f}")
        typer.echo(
            f"contradictions={len(s.contradictions)} found={len(s.found)} recall={s.recall:.2f} "
            f"false_alarms={len(s.false_alarms)} flags={s.flags} coverage={s.coverage:.2f} "
            f"covered={s.covered} holding={s.holding}"
        )
    if s.missed or s.false_alarms:
        raise typer.Exit(1)


def _relation(rel: dict[str, object]) -> dict[str, object]:
    return {k: rel.get(k) for k in ("file", "kind", "stated", "formula", "quote")}


def _stray(flag: Flag, rel: dict[str, object] | None) -> dict[str, object]:
    return {
        "file": flag.file,
        "check": flag.check,
        "severity": flag.severity.value,
        "stated": flag.stated,
        "computed": flag.computed,
        "evidence": flag.evidence,
        "relation": rel.get("formula") if rel else None,
    }


def main() -> None:
    """Entry point: `audit DIR` audits, `audit eval LABELS DIR` evaluates."""
    if len(sys.argv) > 1 and sys.argv[1] == "eval":
        sys.argv.pop(1)
        eval_app(prog_name="audit eval")
    else:
        app(prog_name="audit")
