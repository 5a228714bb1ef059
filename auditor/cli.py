"""The `audit` command: parse options, make one library call, turn errors into one line."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from auditor import __version__
from auditor.audit import NOT_A_REPORT, Found, UnitResult
from auditor.errors import AuditorError, OutputError
from auditor.extract import ExtractConfig
from auditor.flags import Flag, Severity
from auditor.run import FILE_MEMORY_MB, MODEL_TIMEOUT, RULES_TIMEOUT, BatchOptions, run_batch

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


EXIT_OK, EXIT_FLAGS, EXIT_USAGE, EXIT_FAILED, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


class _Front:
    """The progress bar and the lines a person reads while the batch runs; keeps only what the summary needs."""

    def __init__(self, quiet: bool, keep_checks: bool = False) -> None:
        self.quiet = quiet
        self.keep_checks = keep_checks
        self.units: list[UnitResult] = []
        self.files = 0
        self.resumed = 0
        self.checked = 0
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

    def total(self, files: int, resumed: int) -> None:
        self.files, self.resumed = files, resumed
        self.progress.update(self.task, total=files, completed=resumed, description="")

    def start(self, name: str) -> None:
        self.in_hand.append(name)
        self._show()

    def _show(self) -> None:
        # The file in hand longest is the one a person wonders about; the others are counted.
        more = f" 等{len(self.in_hand)}个" if len(self.in_hand) > 1 else ""
        self.progress.update(self.task, description=escape(self.in_hand[0]) + more if self.in_hand else "")

    def done(self, name: str, units: list[UnitResult]) -> None:
        if name in self.in_hand:
            self.in_hand.remove(name)
        self._show()
        self.progress.advance(self.task)
        for u in units:
            self.checked += u.checked
            if not self.keep_checks:
                u.checks = [f for f in u.checks if f.flagged]  # the summary counts flags; the rest is on disk
            self.units.append(u)
            if u.status == "failed" and not self.quiet and err.is_terminal:
                self.progress.console.print(f"[red]无法审核[/red] {escape(name)}：{escape(u.detail)}")


def _summary(front: _Front, found: Found, out: Path) -> None:
    units = front.units
    count = {s: sum(u.status == s for u in units) for s in ("ok", "flagged", "unchecked", "failed")}
    order = {name: i for i, (_, name) in enumerate(found.files)}
    problems = sorted((u for u in units if u.status in ("flagged", "failed")), key=lambda u: order.get(u.file, 0))
    if problems:
        err.print("[bold]需要查看的报告：[/bold]")
    for u in problems:
        name = escape(u.file + (f" · {u.unit[:40]}" if u.unit else ""))
        if u.status == "failed":
            err.print(f"  [red]无法审核[/red] {name}：{escape(u.detail)}")
        else:
            err.print(f"  [yellow]有问题[/yellow] {name}：{u.errors} 个错误，{u.warnings} 个警告")
    for name, reason in found.skipped:
        if not reason.startswith(NOT_A_REPORT):
            err.print(f"  [dim]已跳过[/dim] {escape(name)}：{escape(reason)}")
    n_err = sum(u.errors for u in units)
    n_warn = sum(u.warnings for u in units)
    resumed = f"（其中 {front.resumed} 个文件沿用上次结果，未列出）" if front.resumed else ""
    err.print(
        f"{len(found.files)} 个文件{resumed}，{len(units)} 份报告：{count['flagged']} 份有问题"
        f"（{n_err} 个错误，{n_warn} 个警告），{count['failed']} 份无法审核，{count['ok']} 份核对无误，"
        f"{count['unchecked']} 份未能核对任何数字；跳过 {len(found.skipped)} 个其他文件。"
        f"共核对 {front.checked} 处。"
    )
    err.print(
        f"结果：{escape(str(out / 'flags.csv'))}，{escape(str(out / 'checks.csv'))}，{escape(str(out / 'reports.csv'))}"
    )


def _batch(path: Path, out: Path, config: ExtractConfig, options: BatchOptions, front: _Front, debug: bool) -> Found:
    """Run the batch; every way it can stop becomes one line and an exit code."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        with front.progress:
            return run_batch(path, out, config, options, front).found
    except OutputError as exc:
        _fail(exc, debug, EXIT_OUTPUT)
    except AuditorError as exc:
        _fail(exc, debug, EXIT_USAGE)
    except KeyboardInterrupt:
        err.print(
            f"[red]已中断。[/red]已完成的 {len(front.units)} 份报告在 {escape(str(out))} 的 *.partial.csv 中；"
            "加 --resume 重新运行可接着审核。"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    raise AssertionError("unreachable")


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
            help="同时审核的文件数（工作进程数），默认为CPU核数（用模型时不少于--concurrency）",
        ),
    ] = None,
    file_timeout: Annotated[
        float | None,
        typer.Option(min=1, help=f"单个文件的时间上限（秒），默认：规则{RULES_TIMEOUT:g}，模型{MODEL_TIMEOUT:g}"),
    ] = None,
    file_memory: Annotated[int, typer.Option(min=64, help="单个文件的内存上限（MB）")] = FILE_MEMORY_MB,
    resume: Annotated[
        bool, typer.Option("--resume", help="接着上次（中断的或已完成的）运行：内容和设置都未变的文件不再审核")
    ] = False,
    extractor: Annotated[
        ExtractorChoice, typer.Option(help="抽取方式：auto=配置了模型则用llm，否则rules")
    ] = ExtractorChoice.auto,
    model: Annotated[str | None, typer.Option(envvar="AUDITOR_MODEL", help="模型名")] = None,
    base_url: Annotated[str | None, typer.Option(envvar="OPENAI_BASE_URL", help="OpenAI兼容接口地址")] = None,
    mode: Annotated[Mode, typer.Option(help="Instructor模式")] = Mode.tools,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="每个文件同时发出的LLM请求数")] = 1,
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
    """审核PATH下的报告，写出 OUT/flags.csv、OUT/checks.csv 和 OUT/reports.csv。

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
    options = BatchOptions(file_timeout=file_timeout, file_memory_mb=file_memory, resume=resume)
    if jobs:
        options.jobs = jobs
    elif config.resolved() != "rules":
        # A model's workers wait on the network, not the CPU: keep --concurrency files in flight.
        options.jobs = max(options.jobs, concurrency)
    front = _Front(quiet)
    found = _batch(path, out, config, options, front, debug)
    if not quiet:
        _summary(front, found, out)
    if any(u.status == "failed" for u in front.units):
        raise typer.Exit(EXIT_FAILED)
    threshold = {"error": 2, "warning": 1, "never": 99}[fail_on.value]
    if any(f.severity.rank >= threshold for u in front.units for f in u.flags if f.severity != Severity.INFO):
        raise typer.Exit(EXIT_FLAGS)


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
    front = _Front(quiet=True, keep_checks=True)
    _batch(path, out, ExtractConfig(extractor="rules"), BatchOptions(), front, False)
    results = front.units
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
