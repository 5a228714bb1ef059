"""Review where you read: locations a person can find, report.html as written, and the flags.xlsx working paper
with its --baseline round trip, all through the real command on the seed reports and their PDF/Word copies."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from auditor.documents import load

from .conftest import FIXTURES, SEEDS, audit, rows

CONVERTED = FIXTURES / "converted"
SEED = SEEDS / "001_58accd15f871133c.txt"  # 5 errors, 1 warning


# --------------------------------------------------------------------------- locations

# Each place was found by hand: the line with `sed -n`, the paragraph by counting python-docx's paragraphs that
# hold text, the table row with python-docx's tables, the PDF page on the page image.
PLACES = [
    (SEEDS / "000_76de77d70b614fce.txt", "资金预算执行率为90.48%", "第12行"),
    (CONVERTED / "000_76de77d70b614fce.docx", "资金预算执行率为90.48%", "第9段"),
    (CONVERTED / "000_76de77d70b614fce.pdf", "资金预算执行率为90.48%", "第1页"),
    (CONVERTED / "004_f69b799b5693d40d.docx", "实际到位资金125万元", "第30段"),
    (CONVERTED / "004_f69b799b5693d40d.docx", "年末滚存结余 34.50 万元", "第37段"),
    (CONVERTED / "004_f69b799b5693d40d.docx", "贯彻中央对医疗保障制度改革中有关城乡居民医保决策部署", "表2第2行"),
    (CONVERTED / "004_f69b799b5693d40d.pdf", "预算执行率为72.40%", "第2页"),
    (CONVERTED / "004_f69b799b5693d40d.pdf", "贯彻中央对医疗保障制度改革中有关城乡居民医保决策部署", "第3页"),
]


@pytest.mark.parametrize(("path", "quote", "place"), PLACES, ids=[f"{p.suffix}:{w}" for p, _, w in PLACES])
def test_a_quote_is_located_where_a_person_finds_it(path: Path, quote: str, place: str) -> None:
    doc = load(path)
    at = doc.text.index(quote)
    assert doc.locate(at, at + len(quote)) == place


def test_a_quote_over_two_lines_names_both() -> None:
    doc = load(SEEDS / "000_76de77d70b614fce.txt")
    at = doc.text.index("资金预算执行率为90.48%")
    end = doc.text.index("\n", at) + 3  # into line 13
    assert doc.locate(at, end) == "第12–13行"


def test_every_quote_of_a_flag_carries_its_location(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    for name in ("004_f69b799b5693d40d.pdf", "004_f69b799b5693d40d.docx"):
        shutil.copy(CONVERTED / name, d / name)
    res = audit(str(d), "-o", str(tmp_path / "out"), "--no-html")
    assert res.returncode == 1, res.stderr
    flags = rows(tmp_path / "out" / "flags.csv")
    balance = {f["file"]: f for f in flags if f["check"] == "BALANCE"}
    # Three quotes: two in one paragraph, the third in the paragraph before it (checked by hand above).
    assert balance["004_f69b799b5693d40d.docx"]["location"] == "第37段 … 第37段 … 第36段"
    assert balance["004_f69b799b5693d40d.pdf"]["location"] == "第2页 … 第2页 … 第2页"
    assert balance["004_f69b799b5693d40d.pdf"]["page"] == "2"
    for f in flags:
        assert f["location"].count(" … ") == f["evidence"].count(" … "), f
    for line in (tmp_path / "out" / "flags.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        doc = load(d / obj["file"])
        for q in obj["quotes"]:
            assert q["location"] == doc.locate(q["start"], q["end"])
    for c in rows(tmp_path / "out" / "checks.csv"):
        assert c["location"] and "未定位" not in c["location"], c


# --------------------------------------------------------------------------- report.html as written


def key(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:12]


def test_report_html_marks_every_flag_and_tick_and_needs_no_network(tmp_path: Path) -> None:
    d = tmp_path / "in"
    shutil.copytree(SEEDS, d, ignore=shutil.ignore_patterns("*.expected.csv"))
    shutil.copy(CONVERTED / "004_f69b799b5693d40d.pdf", d)
    res = audit(str(d), "-o", str(tmp_path / "out"), "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    flags = rows(tmp_path / "out" / "flags.csv")
    checks = rows(tmp_path / "out" / "checks.csv")
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", page)
    assert "Content-Security-Policy" in page and '<html lang="zh-CN">' in page
    marked = {i for m in re.findall(r'data-flags="([^"]+)"', page) for i in m.split()}
    ticked = {i for m in re.findall(r'data-ticks="([^"]+)"', page) for i in m.split()}
    expected_flags, expected_ticks = set(), set()
    for name in {r["file"] for r in checks}:
        mine = [f for f in flags if f["file"] == name]
        expected_flags |= {f"flag-{key(name)}-{k}" for k, f in enumerate(mine, 1) if f["start"]}
        oks = [c for c in checks if c["file"] == name and c["result"] == "ok"]
        expected_ticks |= {f"tick-{key(name)}-{n}" for n, c in enumerate(oks, 1) if c["start"]}
    assert marked == expected_flags and len(marked) == len(flags)
    assert ticked == expected_ticks and len(ticked) > 500
    for anchor in expected_flags:
        assert page.count(f'id="{anchor}"') == 1 and page.count(f'href="#{anchor}"') == 1
    # The PDF's evidence pages, and only those, drawn with boxes around the quotes.
    pdf_pages = {int(f["page"]) for f in flags if f["file"].endswith(".pdf")}
    figures = re.findall(r'<figure class="page-image" id="page-(\w+)-(\d+)"', page)
    assert {int(n) for k, n in figures if k == key("004_f69b799b5693d40d.pdf")} == pdf_pages == {2, 3}
    assert len(re.findall(r'class="box" data-flags="flag-', page)) >= len(pdf_pages)
    assert 'href="../in/004_f69b799b5693d40d.pdf#page=2"' in page
    # The index: one row per report, problems first.
    index = re.findall(r'<tr class="report-row status-(\w+)"', page)
    assert len(index) == len(rows(tmp_path / "out" / "reports.csv"))
    assert index == sorted(index, key=["flagged", "failed", "unchecked", "ok"].index)


def test_no_html_leaves_the_page_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    assert (out / "report.html").exists()
    res = audit(str(SEED), "-o", str(out), "--no-html")
    assert res.returncode == 1, res.stderr
    assert not (out / "report.html").exists()  # a page of the earlier run would not match the new rows
    assert (out / "flags.xlsx").exists() and not any((out / ".audit-review").iterdir())
    # No page, so nothing links to one.
    objects = [json.loads(line) for line in (out / "flags.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(objects) == 6 and all(o["anchor"] == "" for o in objects)
    assert all(
        c.hyperlink is None for row in openpyxl.load_workbook(out / "flags.xlsx").active.iter_rows() for c in row
    )


def test_a_long_text_is_shown_as_excerpts_around_its_evidence(tmp_path: Path) -> None:
    filler = "本段为填充文字，不含数字。\n" * 90_000  # 1.2 million characters before the report
    d = tmp_path / "in"
    d.mkdir()
    (d / "long.txt").write_text(filler + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    res = audit(str(d), "-o", str(tmp_path / "out"))
    assert res.returncode == 1, res.stderr
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert len(page) < 1_000_000
    assert re.search(r"…（略去\d+字）…", page)
    assert len({i for m in re.findall(r'data-flags="([^"]+)"', page) for i in m.split()}) == 6


# --------------------------------------------------------------------------- flags.xlsx and --baseline


def sheet_rows(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path).active
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=True)) for r in values[1:]]


def test_workbook_rows_link_to_their_place_in_the_page(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    wb = openpyxl.load_workbook(out / "flags.xlsx")
    ws = wb.active
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    flags = rows(out / "flags.csv")
    page = (out / "report.html").read_text(encoding="utf-8")
    got = sheet_rows(out / "flags.xlsx")
    assert [(r["文件"], r["检查"], r["证据原文"]) for r in got] == [
        (f["file"], f["check"], f["evidence"]) for f in flags
    ]
    for i, f in enumerate(flags, 2):
        link = ws.cell(row=i, column=[c.value for c in ws[1]].index("复核页面") + 1).hyperlink
        anchor = link.target.split("#", 1)[1]
        assert link.target.startswith("report.html#") and f'id="{anchor}"' in page
        assert (r := got[i - 2])["位置"] == f["location"] and r["结论"] is None and r["备注"] is None


def test_baseline_leaves_out_dismissed_flags_and_keeps_the_review(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    before = rows(out / "flags.csv")
    # The reviewer dismisses the warning and the SUM error, confirms a DUPLICATE, in Excel.
    reviewed = tmp_path / "reviewed.xlsx"
    wb = openpyxl.load_workbook(out / "flags.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    verdict, note, check = header.index("结论") + 1, header.index("备注") + 1, header.index("检查") + 1
    checks = [ws.cell(row=r, column=check).value for r in range(2, ws.max_row + 1)]
    assert checks.count("TARGET") == 1 and checks.count("SUM") == 1
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=check).value in ("TARGET", "SUM"):
            ws.cell(row=r, column=verdict).value = "排除"
    ws.cell(row=2, column=verdict).value = "确认"
    ws.cell(row=2, column=note).value = "已与单位核实"
    wb.save(reviewed)

    res = audit(str(SEED), "-o", str(out), "--baseline", str(reviewed))
    assert res.returncode == 1, res.stderr  # four errors remain
    assert "略去 2 条" in res.stderr
    after = rows(out / "flags.csv")
    assert [f for f in before if f["check"] not in ("TARGET", "SUM")] == after
    [report] = rows(out / "reports.csv")
    assert (report["errors"], report["warnings"]) == ("4", "0")
    results = [c["result"] for c in rows(out / "checks.csv") if c["check"] in ("TARGET", "SUM") and c["result"] != "ok"]
    assert results == ["dismissed", "dismissed"]
    assert len((out / "flags.jsonl").read_text(encoding="utf-8").splitlines()) == 4
    kept = sheet_rows(out / "flags.xlsx")
    assert len(kept) == 4 and (kept[0]["结论"], kept[0]["备注"]) == ("确认", "已与单位核实")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert len({i for m in re.findall(r'data-flags="([^"]+)"', page) for i in m.split()}) == 4


def test_a_bad_baseline_is_one_line_and_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = tmp_path / "reviewed.xlsx"
    bad.write_text("file,check\n", encoding="utf-8")
    res = audit(str(SEED), "-o", str(out), "--baseline", str(bad))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "reviewed.xlsx" in res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_workbook_reviewed_in_place_is_kept_before_a_rerun_replaces_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    wb = openpyxl.load_workbook(out / "flags.xlsx")
    ws = wb.active
    ws.cell(row=2, column=[c.value for c in ws[1]].index("结论") + 1).value = "排除"
    wb.save(out / "flags.xlsx")
    res = audit(str(SEED), "-o", str(out))  # no --baseline: all six flags again
    assert res.returncode == 1, res.stderr
    [kept] = out.glob("flags.复核*.xlsx")
    assert kept.name in res.stderr
    assert sheet_rows(kept)[0]["结论"] == "排除"
    assert all(r["结论"] is None for r in sheet_rows(out / "flags.xlsx")) and len(sheet_rows(out / "flags.xlsx")) == 6
    # A second rerun finds no review in the new workbook and keeps nothing more.
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    assert len(list(out.glob("flags.复核*.xlsx"))) == 1


def test_a_damaged_view_costs_its_section_not_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert audit(str(SEED), "-o", str(out)).returncode == 1
    [view] = (out / ".audit-review").iterdir()
    view.write_text(json.dumps({"file": SEED.name, "rows": [{"kind": "flag"}]}), encoding="utf-8")
    res = audit(str(SEED), "-o", str(out), "--resume")  # the file is kept, and so is its (now damaged) view
    assert res.returncode == 1, res.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "复核视图已损坏" not in page and 'class="report-row' in page  # unreadable rows: index row only
    view.write_text(json.dumps({"file": SEED.name, "rows": [], "text": 5}), encoding="utf-8")
    assert audit(str(SEED), "-o", str(out), "--resume").returncode == 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "复核视图已损坏" in page and len(rows(out / "flags.csv")) == 6


def test_baseline_matches_names_with_control_characters_and_rows_without_evidence(tmp_path: Path) -> None:
    from auditor.workbook import Baseline, write_workbook

    flags: list[dict[str, object]] = [
        {"file": "a\x01b.txt", "unit": "u", "check": "SUM", "severity": "error", "message": "m", "evidence": "合计5"},
        {
            "file": "c.txt",
            "unit": "u",
            "check": "LLM",
            "severity": "warning",
            "message": "HTTP 500；本报告只有规则读出的结果",
        },
    ]
    path = tmp_path / "flags.xlsx"
    write_workbook(path, flags)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    for r in (2, 3):
        ws.cell(row=r, column=header.index("结论") + 1).value = "排除"
    wb.save(path)
    baseline = Baseline.load(path)
    assert baseline.dismissed(flags[0]) and baseline.dismissed(flags[1])
    # Another failure of the model on the same file is news, not the row the reviewer dismissed.
    assert not baseline.dismissed({**flags[1], "message": "连接失败或被中断；本报告只有规则读出的结果"})


def test_a_word_paragraph_with_a_soft_line_break_is_one_paragraph(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("一、基本情况")
    p = d.add_paragraph("第二段的上半")
    p.add_run().add_break()  # Shift+Enter: a new line, the same paragraph
    p.add_run("第二段的下半")
    d.add_paragraph("")  # Word's blank paragraph: not counted
    d.add_paragraph("当年下达资金1,108万元。")
    path = tmp_path / "soft.docx"
    d.save(path)
    doc = load(path)
    at = doc.text.index("当年下达资金")
    assert doc.text.count("\n", 0, at) == 4  # four lines before it in the text; two paragraphs with text in Word
    assert doc.locate(at, at + 6) == "第3段"
    assert doc.locate(doc.text.index("第二段的下半")) == "第2段"
