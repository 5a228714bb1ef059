"""The batch run as an auditor leaves it running over lunch: hostile files, hostile file systems, full disks,
kills and resumes. Every case must end with the promised rows and exit code, bounded by the per-file limits."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.extract import ExtractConfig
from auditor.run import BatchOptions, run_batch

from . import hostile_inputs as hostile
from .conftest import FIXTURES, SEEDS, audit, rows

runner = CliRunner()
SEED = SEEDS / "001_58accd15f871133c.txt"  # flagged: 5 errors, 1 warning
CLEAN = FIXTURES / "checks" / "SUM" / "clean.txt"


def start(*args: str) -> subprocess.Popen[bytes]:
    """The real command started in the background (its stderr dropped), for tests that stop it midway."""
    return subprocess.Popen([sys.executable, "-m", "auditor", *args], stderr=subprocess.DEVNULL)


def kill_after_rows(proc: subprocess.Popen[bytes], partial: Path, n: int) -> None:
    """SIGKILL a running audit once `partial` holds n rows (no handler runs: as a power cut or the OOM killer)."""
    while proc.poll() is None and (not partial.exists() or len(rows(partial)) < n):
        time.sleep(0.02)
    proc.kill()
    proc.wait()


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix == ".csv"}


# --------------------------------------------------------------------------- hostile files


def test_each_hostile_file_gets_its_row_and_the_rest_is_audited(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEED, d / "a_seed.txt")
    hostile.zip_bomb_docx(d / "b_zip_bomb.docx")
    hostile.gridspan_bomb_docx(d / "c_gridspan.docx")
    hostile.dense_table_pdf(d / "d_dense.pdf")
    hostile.long_paragraph_text(d / "e_long_paragraph.txt", 2)
    shutil.copy(CLEAN, d / "z_clean.txt")
    res = audit(str(d), "-o", str(tmp_path / "out"), "-j", "2", "--file-timeout", "120")
    report = {r["file"]: r for r in rows(tmp_path / "out" / "reports.csv")}
    assert set(report) == {p.name for p in d.iterdir()}
    assert report["a_seed.txt"]["status"] == "flagged"
    assert report["z_clean.txt"]["status"] == "ok"
    assert report["b_zip_bomb.docx"]["status"] == "failed"
    assert "压缩" in report["b_zip_bomb.docx"]["detail"]
    # The bombs that are not refused outright are read, each within its limits.
    for name in ("c_gridspan.docx", "d_dense.pdf", "e_long_paragraph.txt"):
        assert report[name]["status"] in {"ok", "flagged", "unchecked"}, (name, report[name]["detail"])
    assert res.returncode == 3, res.stderr  # some files failed
    assert "b_zip_bomb.docx" in res.stderr and "压缩" in res.stderr  # the reason is shown, not only written


def test_a_file_past_its_time_gets_a_timeout_row(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEED, d / "a.txt")
    hostile.big_text(d / "b_huge.txt", 50)
    shutil.copy(CLEAN, d / "c.txt")
    t0 = time.monotonic()
    res = runner.invoke(app, [str(d), "-o", str(tmp_path / "out"), "-j", "1", "--file-timeout", "2"])
    elapsed = time.monotonic() - t0
    report = {r["file"]: r for r in rows(tmp_path / "out" / "reports.csv")}
    assert report["b_huge.txt"]["status"] == "failed"
    assert report["b_huge.txt"]["detail"].startswith("超时")
    assert report["a.txt"]["status"] == "flagged" and report["c.txt"]["status"] == "ok"  # the worker was replaced
    assert res.exit_code == 3
    assert elapsed < 60  # bounded by the limit, not by the file; generous for a busy machine


def test_a_file_past_its_memory_gets_a_memory_row(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    hostile.big_text(d / "a_huge.txt", 50)
    shutil.copy(CLEAN, d / "b.txt")
    res = runner.invoke(app, [str(d), "-o", str(tmp_path / "out"), "-j", "1", "--file-memory", "300"])
    report = {r["file"]: r for r in rows(tmp_path / "out" / "reports.csv")}
    assert report["a_huge.txt"]["status"] == "failed"
    assert report["a_huge.txt"]["detail"].startswith("内存超限"), report["a_huge.txt"]["detail"]
    assert report["b.txt"]["status"] == "ok"
    assert res.exit_code == 3


# --------------------------------------------------------------------------- hostile file systems


def test_undecodable_name_is_audited_and_shown_with_replacement_characters(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    gbk = os.fsencode(d) + b"/" + "绩效自评报告.txt".encode("gbk")
    Path(os.fsdecode(gbk)).write_bytes(SEED.read_bytes())
    res = audit(str(d), "-o", str(tmp_path / "out"))
    assert res.returncode == 1, res.stderr  # the report's own errors
    [row] = rows(tmp_path / "out" / "reports.csv")
    assert "\ufffd" in row["file"] and row["file"].endswith(".txt")
    assert row["status"] == "flagged" and "UTF-8" in row["detail"]
    flags = rows(tmp_path / "out" / "flags.csv")
    assert len(flags) == 6 and {f["file"] for f in flags} == {row["file"]}


def test_loops_dangling_links_pipes_and_devices_are_skipped_and_counted(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CLEAN, d / "report.txt")
    os.symlink("loop_b", d / "loop_a")
    os.symlink("loop_a", d / "loop_b")
    os.symlink("missing.txt", d / "dangling.txt")
    os.symlink(d, d / "self")  # a link to a folder that contains it
    os.mkfifo(d / "pipe.txt")  # opening it would block forever
    os.symlink("/dev/zero", d / "zero.txt")  # reading it would never end
    res = audit(str(d), "-o", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert [r["file"] for r in rows(tmp_path / "out" / "reports.csv")] == ["report.txt"]
    for name, reason in [
        ("loop_a", "符号链接循环"),
        ("dangling.txt", "链接指向的文件不存在"),
        ("self", "指向目录的链接"),
        ("pipe.txt", "命名管道"),
        ("zero.txt", "设备文件"),
    ]:
        assert any(name in line and reason in line for line in res.stderr.splitlines()), (name, res.stderr)
    assert "跳过 6 个其他文件" in res.stderr


def test_summary_lines_are_not_broken_in_a_pipe(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    long_name = "很长的文件名" * 12 + ".txt"  # 220 bytes, under the 255 a name may have
    shutil.copy(SEED, d / long_name)
    res = audit(str(d), "-o", str(tmp_path / "out"))
    [line] = [ln for ln in res.stderr.splitlines() if long_name in ln]
    assert "5 个错误，1 个警告" in line
    assert all("\x1b[" not in ln for ln in res.stderr.splitlines())  # no colour codes in a pipe


# --------------------------------------------------------------------------- output errors and exit codes


def test_output_folder_that_is_a_file_or_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for out in (blocker, blocker / "sub"):
        res = audit(str(CLEAN), "-o", str(out))
        assert res.returncode == 4
        assert len(res.stderr.strip().splitlines()) == 1 and "不是目录" in res.stderr, res.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes through permission bits; the immutable attribute stops even root
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(locked)], check=False).returncode:
            pytest.skip("cannot make a folder unwritable for root here")
    else:
        locked.chmod(0o500)
    try:
        res = audit(str(CLEAN), "-o", str(locked))
        res_sub = audit(str(CLEAN), "-o", str(locked / "sub"))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], check=False)
        locked.chmod(0o700)
    for r in (res, res_sub):
        assert r.returncode == 4
        assert len(r.stderr.strip().splitlines()) == 1 and "没有写入权限" in r.stderr, r.stderr


def test_disk_full_keeps_the_rows_written_before(tmp_path: Path) -> None:
    def small_disk() -> None:
        # A file-size limit makes writes fail the way a full disk does (EFBIG instead of ENOSPC).
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "auditor", str(FIXTURES / "realdev" / "cases"), "-o", str(out), "-j", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_disk,
        check=False,
    )
    assert res.returncode == 4, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "无法写入" in res.stderr
    assert not (out / "checks.csv").exists()  # no half-finished file in the place of the results
    reports = rows(out / "reports.partial.csv")
    assert reports and all(r["status"] for r in reports)
    checks = rows(out / "checks.partial.csv")
    assert checks and all(r["result"] in {"ok", "flag"} for r in checks)  # whole rows only
    audited = {r["file"] for r in reports}
    assert {r["file"] for r in checks} <= audited


def test_second_run_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    hostile.big_text(d / "slow.txt", 20)
    out = tmp_path / "out"
    first = start(str(d), "-o", str(out), "--file-timeout", "30")
    try:
        while not (out / "reports.partial.csv").exists():
            time.sleep(0.05)
        second = audit(str(CLEAN), "-o", str(out))
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert second.returncode == 4
    assert "正被另一次审核写入" in second.stderr and len(second.stderr.strip().splitlines()) == 1
    assert first.returncode == 130  # stopped like Ctrl-C, partial results kept
    assert (out / "reports.partial.csv").exists()


def test_a_usage_error_never_touches_the_previous_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, [str(SEEDS), "-o", str(out), "-q"]).exit_code == 1
    before = snapshot(out)
    assert runner.invoke(app, [str(tmp_path / "missing"), "-o", str(out)]).exit_code == 2
    assert runner.invoke(app, [str(SEEDS), "-o", str(out), "--jobs", "0"]).exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, [str(empty), "-o", str(out)]).exit_code == 2
    assert runner.invoke(app, [str(SEEDS), "-o", str(out), "--extractor", "llm"]).exit_code == 2  # no model
    assert snapshot(out) == before


# --------------------------------------------------------------------------- streaming, kill and resume


def test_kill_mid_run_leaves_whole_rows_and_resume_finishes_the_same_results(tmp_path: Path) -> None:
    src = FIXTURES / "realdev" / "cases"
    full = tmp_path / "full"
    assert audit(str(src), "-o", str(full), "-q").returncode == 1  # the corpus has its contradictions

    out = tmp_path / "out"
    proc = start(str(src), "-o", str(out), "-j", "1", "-q")
    partial = out / "reports.partial.csv"
    kill_after_rows(proc, partial, 10)
    streamed = rows(partial)
    assert len(streamed) >= 10 and all(r["status"] for r in streamed)
    for name in ("flags", "checks"):
        with (out / f"{name}.partial.csv").open(encoding="utf-8-sig", newline="") as fh:
            widths = {len(r) for r in csv.reader(fh)}
        assert len(widths) == 1, name  # whole rows: every row as wide as the header

    resumed = audit(str(src), "-o", str(out), "--resume")
    assert resumed.returncode == 1, resumed.stderr  # the kept rows count: their errors are still there
    assert "沿用上次结果" in resumed.stderr
    assert not partial.exists()

    def body(path: Path, drop: tuple[str, ...] = ()) -> list[dict[str, str]]:
        return [{k: v for k, v in r.items() if k not in drop} for r in rows(path)]

    assert body(out / "flags.csv") == body(full / "flags.csv")
    assert body(out / "checks.csv") == body(full / "checks.csv")
    assert body(out / "reports.csv", ("seconds",)) == body(full / "reports.csv", ("seconds",))
    assert (out / "flags.jsonl").read_bytes() == (full / "flags.jsonl").read_bytes()

    # A finished run resumed again audits only what changed.
    again = audit(str(src), "-o", str(out), "--resume")
    assert "65 个文件（其中 65 个沿用上次结果）" in again.stderr, again.stderr
    assert again.returncode == 1
    assert "9 个错误，2 个警告" in again.stderr  # the summary counts the kept reports
    assert body(out / "checks.csv") == body(full / "checks.csv")


def test_resume_audits_again_a_file_whose_content_changed(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CLEAN, d / "a.txt")
    shutil.copy(CLEAN, d / "b.txt")
    out = tmp_path / "out"
    assert runner.invoke(app, [str(d), "-o", str(out), "-q"]).exit_code == 0
    shutil.copy(SEED, d / "b.txt")
    res = runner.invoke(app, [str(d), "-o", str(out), "--resume", "-q"])
    assert res.exit_code == 1
    report = {r["file"]: r["status"] for r in rows(out / "reports.csv")}
    assert report == {"a.txt": "ok", "b.txt": "flagged"}
    assert {r["file"] for r in rows(out / "flags.csv")} == {"b.txt"}


def test_listener_hears_the_file_count_before_any_file(tmp_path: Path) -> None:
    heard: list[tuple[str, object]] = []

    class Ear:
        def total(self, files: int, resumed: int) -> None:
            heard.append(("total", files))

        def start(self, name: str) -> None:
            heard.append(("start", name))

        def done(self, name: str, units: list[object]) -> None:
            heard.append(("done", name))

    run_batch(SEEDS, tmp_path / "out", ExtractConfig(), BatchOptions(jobs=2), Ear())
    assert heard[0] == ("total", 5)
    assert sorted(n for k, n in heard if k == "done") == sorted(n for k, n in heard if k == "start")
    assert len([k for k, _ in heard if k == "done"]) == 5
    # Rows come back in file order whatever order the workers finished in.
    assert [r["file"] for r in rows(tmp_path / "out" / "reports.csv")] == sorted(
        r["file"] for r in rows(tmp_path / "out" / "reports.csv")
    )


# --------------------------------------------------------------------------- packaging


def test_module_entry_point_version_and_help() -> None:
    version = audit("--version")
    assert version.returncode == 0 and version.stdout.startswith("auditor ")
    help_text = subprocess.run(
        [sys.executable, "-m", "auditor", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    ).stdout
    assert "audit eval" in help_text
    assert "用法" in help_text and "显示本帮助并退出" in help_text and "Show this message" not in help_text
    for option in ("--jobs", "--file-timeout", "--file-memory", "--resume"):
        assert option in help_text


def test_a_non_editable_install_ships_the_prompts(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources it builds.
    root = tmp_path / "src"
    checkout = Path(__file__).resolve().parents[1]
    shutil.copytree(checkout / "auditor", root / "auditor", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(checkout / name, root / name)
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--target", str(target), str(root)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    probe = (
        "import auditor.extract.llm as m; p = m.load_prompt(); "
        "assert 'site' in m.__file__, m.__file__; print(p.version)"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip()


def test_progress_counts_files_and_names_the_file_in_hand() -> None:
    from auditor.cli import _Front

    front = _Front(quiet=True)
    [task] = front.progress.tasks
    assert task.total is None and task.description == "查找文件…"  # shown before the files are counted
    front.total(5, [{"file": "a.txt", "status": "ok"}, {"file": "b.txt", "status": "flagged", "errors": "2"}])
    assert (task.total, task.completed) == (5, 2)  # files, with those a --resume kept already done
    assert [line.errors for line in front.lines] == [0, 2]  # kept reports count in the summary and exit code
    front.start("甲.pdf")
    front.start("乙.txt")
    assert task.description == "甲.pdf 等2个"  # the one in hand longest
    front.done("甲.pdf", [])
    assert task.description == "乙.txt" and task.completed == 3


def test_resume_audits_again_the_files_that_failed(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CLEAN, d / "a.txt")
    hostile.long_paragraph_text(d / "b_long.txt", 1)
    out = tmp_path / "out"
    first = runner.invoke(app, [str(d), "-o", str(out), "-q", "-j", "1", "--file-timeout", "1"])
    assert first.exit_code == 3
    assert {r["file"]: r["status"] for r in rows(out / "reports.csv")}["b_long.txt"] == "failed"
    second = runner.invoke(app, [str(d), "-o", str(out), "-q", "-j", "1", "--resume"])
    report = {r["file"]: r["status"] for r in rows(out / "reports.csv")}
    assert report["b_long.txt"] != "failed" and report["a.txt"] == "ok"
    assert second.exit_code in (0, 1) and len(rows(out / "reports.csv")) == 2


def test_names_that_show_alike_stay_apart(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    raw = os.fsencode(d) + b"/"
    Path(os.fsdecode(raw + b"\xb1\xa8.txt")).write_bytes(SEED.read_bytes())  # both show as ��.txt
    Path(os.fsdecode(raw + b"\xb2\xa8.txt")).write_bytes(CLEAN.read_bytes())
    shutil.copy(CLEAN, d / "=a.txt")  # the CSV writes this one as '=a.txt
    shutil.copy(SEED, d / "'=a.txt")
    out = tmp_path / "out"
    runner.invoke(app, [str(d), "-o", str(out), "-q"])
    status = {r["file"]: r["status"] for r in rows(out / "reports.csv")}
    assert len(status) == 4 and sorted(status.values()) == ["flagged", "flagged", "ok", "ok"], status
    # Changing one of two alike-named files is seen by --resume, and no row is carried over twice.
    Path(os.fsdecode(raw + b"\xb1\xa8.txt")).write_bytes(CLEAN.read_bytes())
    shutil.copy(CLEAN, d / "'=a.txt")
    runner.invoke(app, [str(d), "-o", str(out), "-q", "--resume"])
    assert sorted(r["status"] for r in rows(out / "reports.csv")) == ["ok", "ok", "ok", "ok"]
    assert rows(out / "flags.csv") == []


def test_control_characters_in_a_name_never_reach_the_terminal(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEED, d / "first\nsecond.txt")
    shutil.copy(SEED, d / "\x1b]0;title\x07\x1b[2Jclear.txt")
    res = audit(str(d), "-o", str(tmp_path / "out"))
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr
    flagged = [ln for ln in res.stderr.splitlines() if "5 个错误" in ln]
    assert len(flagged) == 2 and any("first\ufffdsecond.txt" in ln for ln in flagged)
    assert {r["file"] for r in rows(tmp_path / "out" / "reports.csv")} == {p.name for p in d.iterdir()}


def test_workers_die_with_a_killed_run(tmp_path: Path) -> None:
    import psutil

    d = tmp_path / "in"
    d.mkdir()
    hostile.big_text(d / "huge.txt", 50)
    out = tmp_path / "out"
    proc = start(str(d), "-o", str(out), "-j", "1", "-q")
    top = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while not workers and time.monotonic() < deadline:
        workers = [p for p in top.children(recursive=True) if p.memory_info().rss > 300e6]  # reading huge.txt
        time.sleep(0.05)
    assert workers, "no busy worker seen"
    tree = top.children(recursive=True)  # the forkserver and the worker
    proc.kill()  # SIGKILL: the run cannot stop its workers itself
    proc.wait()
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, [p.pid for p in alive]


def test_an_interrupted_start_loses_no_kept_rows(tmp_path: Path) -> None:
    src = FIXTURES / "realdev" / "cases"
    out = tmp_path / "out"
    proc = start(str(src), "-o", str(out), "-j", "1", "-q")
    kill_after_rows(proc, out / "reports.partial.csv", 10)
    # A fresh run that fails while it sets up its partial files (here: a folder where a file must go)...
    blocker = out / ".checks.partial.csv.tmp"
    blocker.mkdir()
    assert runner.invoke(app, [str(src), "-o", str(out), "-q"]).exit_code == 4
    blocker.rmdir()
    # ... must not leave a record that claims files whose rows it already dropped.
    runner.invoke(app, [str(src), "-o", str(out), "-q", "--resume"])
    fresh = tmp_path / "fresh"
    runner.invoke(app, [str(src), "-o", str(fresh), "-q"])
    assert rows(out / "flags.csv") == rows(fresh / "flags.csv")
    assert len(rows(out / "checks.csv")) == len(rows(fresh / "checks.csv"))


def test_output_inside_the_input_folder_is_not_read_back(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CLEAN, d / "a.txt")
    for _ in range(2):  # the second run finds the first one's CSVs under the input
        res = audit(str(d), "-o", str(d / "out"))
        assert res.returncode == 0 and "跳过 0 个其他文件" in res.stderr, res.stderr


def test_a_pipe_given_as_the_path_says_why(tmp_path: Path) -> None:
    fifo = tmp_path / "reports.txt"
    os.mkfifo(fifo)
    res = audit(str(fifo), "-o", str(tmp_path / "out"))
    assert res.returncode == 2
    assert "命名管道" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_flags_jsonl_holds_every_quote_where_the_text_has_it(tmp_path: Path) -> None:
    import json

    from auditor.documents import load

    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEED, d)
    shutil.copy(FIXTURES / "converted" / "004_f69b799b5693d40d.pdf", d)
    out = tmp_path / "out"
    runner.invoke(app, [str(d), "-o", str(out), "-q"])
    objects = [json.loads(line) for line in (out / "flags.jsonl").read_text(encoding="utf-8").splitlines()]
    flags = rows(out / "flags.csv")
    assert [(o["file"], o["check"], o["stated"]) for o in objects] == [
        (f["file"], f["check"], f["stated"]) for f in flags
    ]
    several = 0
    for o in objects:
        text = load(d / o["file"]).text
        assert o["quotes"] or o["check"] == "GROUNDING"
        for q in o["quotes"]:
            assert text[q["start"] : q["end"]] == q["text"]
            assert (q["page"] is not None) == o["file"].endswith(".pdf")
        several += len(o["quotes"]) > 1
    assert several >= 5  # flags resting on two quotes carry both, not only the first
