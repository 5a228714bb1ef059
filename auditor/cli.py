"""The `audit` command: parse options, make one library call, turn errors into one line."""

from __future__ import annotations

import json
import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from auditor.audit import UnitResult, discover, iter_audit
from auditor.errors import AuditorError
from auditor.extract import ExtractConfig
from auditor.flags import Flag, Severity
from auditor.report import CsvSink

err = Console(stderr=True)
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


def _run(path: Path, out: Path, config: ExtractConfig, quiet: bool) -> list[UnitResult]:
    results: list[UnitResult] = []
    with (
        CsvSink(out) as sink,
        Progress(
            TextColumn("[bold]审核"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=quiet or not err.is_terminal,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("units", total=None)
        for r in iter_audit(path, config, on_total=lambda n: progress.update(task, total=n)):
            sink.write(r.row(), r.checks)
            results.append(r)
            progress.advance(task)
    return results


def _summary(results: list[UnitResult], skipped: int, out: Path) -> None:
    table = Table(title="审核结果", show_lines=False)
    for col in ("文件", "报告", "状态", "错误", "警告", "已核对"):
        table.add_column(col)
    for r in results:
        table.add_row(r.file, r.unit[:40], r.status, str(r.errors), str(r.warnings), str(r.checked))
    err.print(table)
    n_err = sum(r.errors for r in results)
    n_warn = sum(r.warnings for r in results)
    status = {s: sum(r.status == s for r in results) for s in ("ok", "flagged", "unchecked", "failed")}
    err.print(
        f"{len(results)} 份报告：{status['flagged']} 份有问题（{n_err} 个错误，{n_warn} 个警告），"
        f"{status['ok']} 份核对无误，{status['unchecked']} 份未能核对任何数字，{status['failed']} 份无法读取；"
        f"{skipped} 个其他文件已跳过。共核对 {sum(r.checked for r in results)} 处。"
        f"结果：{out / 'flags.csv'}，{out / 'checks.csv'}，{out / 'reports.csv'}"
    )


@app.command()
def audit(
    path: Annotated[Path, typer.Argument(help="报告文件或目录（PDF、Word、TXT、MD）")],
    out: Annotated[Path, typer.Option("-o", "--out", help="输出目录")] = Path("out"),
    fail_on: Annotated[FailOn, typer.Option(help="出现该级别及以上的标记时退出码为1")] = FailOn.error,
    extractor: Annotated[
        ExtractorChoice, typer.Option(help="抽取方式：auto=配置了模型则用llm，否则rules")
    ] = ExtractorChoice.auto,
    model: Annotated[str | None, typer.Option(envvar="AUDITOR_MODEL", help="模型名")] = None,
    base_url: Annotated[str | None, typer.Option(envvar="OPENAI_BASE_URL", help="OpenAI兼容接口地址")] = None,
    mode: Annotated[Mode, typer.Option(help="Instructor模式")] = Mode.tools,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="并发处理的报告数")] = 1,
    cache_dir: Annotated[Path | None, typer.Option(help="LLM缓存目录")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="不读写LLM缓存")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="每次LLM请求的超时秒数")] = 60.0,
    max_tokens: Annotated[int | None, typer.Option(min=64, help="LLM回复的最大token数")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="不显示进度和汇总")] = False,
    debug: Annotated[bool, typer.Option(help="出错时显示完整调用栈")] = False,
) -> None:
    """审核PATH下的报告，写出 OUT/flags.csv 和 OUT/reports.csv。"""
    try:
        if not path.exists():
            raise typer.BadParameter(f"找不到 {path}", param_hint="PATH")
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
        results = _run(path, out, config, quiet)
    except AuditorError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[red]错误：{exc.reason}[/red]")
        raise typer.Exit(2) from None
    skipped = len(discover(path)[1])
    if not quiet:
        _summary(results, skipped, out)
    if not results or all(r.status == "failed" for r in results):
        err.print("[red]没有任何文件可以审核[/red]")
        raise typer.Exit(2)
    threshold = {"error": 2, "warning": 1, "never": 99}[fail_on.value]
    if any(f.severity.rank >= threshold for r in results for f in r.flags if f.severity != Severity.INFO):
        raise typer.Exit(1)


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
        results = _run(path, out, ExtractConfig(extractor="rules"), quiet=True)
    except AuditorError as exc:
        err.print(f"[red]错误：{exc.reason}[/red]")
        raise typer.Exit(2) from None
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
