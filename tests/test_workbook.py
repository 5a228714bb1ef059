"""flags.xlsx, the reviewer's working paper, and the Baseline that reads a reviewed copy back (real files)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from openpyxl import Workbook, load_workbook

from auditor.errors import AuditorError, BaselineError, ConfigError, OutputError
from auditor.workbook import HEADERS, Baseline, write_workbook

HEADER_ROW = [
    "文件",
    "报告",
    "检查",
    "严重程度",
    "问题",
    "报告所写",
    "核算结果",
    "差额",
    "证据原文",
    "位置",
    "复核页面",
    "结论",
    "备注",
]
LONG = "预算执行率为百分之九十。" * 3400  # 12 × 3400 = 40,800 characters


def flag(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "file": "甲县2023年度自评报告.pdf",
        "unit": "甲县2023年度自评报告",
        "check": "EXEC_RATE",
        "severity": "error",
        "message": "预算执行率应为 95.00%，报告写 98%",
        "stated": "98%",
        "computed": "95.00%",
        "difference": "3.00",
        "formula": "380万元÷400万元×100%",
        "evidence": "预算执行率98% … 全年支出380万元",
        "location": "第3页 … 第5页",
        "anchor": "flag-1a2b3c4d-1",
        "quotes": [],
    }
    base.update(fields)
    return base


FORMULA = flag(message="=SUM(A1:A9) 与合计不符", stated="#N/A", difference="-4.31", anchor="flag-00000001-1")
HUGE = flag(check="SUM", severity="warning", evidence=LONG, location="第12行", anchor="flag-00000002-1")
CJK = flag(
    unit="附件2：乡村振兴补助资金绩效自评报告",
    check="TARGET",
    severity="info",
    message="指标“农户满意度”未完成却得满分",
    evidence="农户满意度≥95%，实际完成90%，得分10分（满分10分）",
    location="表2第5行",
    anchor="flag-00000003-1",
)


def read(path: Path):
    wb = load_workbook(path)
    assert wb.sheetnames == ["问题清单"]
    return wb["问题清单"]


def column(name: str) -> str:
    return "ABCDEFGHIJKLM"[HEADER_ROW.index(name)]


def test_headers_are_the_documented_columns() -> None:
    assert [h for _, h in HEADERS] == HEADER_ROW
    assert len({k for k, _ in HEADERS}) == len(HEADERS)


def test_written_workbook_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "flags.xlsx"
    write_workbook(path, [FORMULA, HUGE, CJK])
    ws = read(path)

    assert [c.value for c in ws[1]] == HEADER_ROW
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:M4"
    assert ws.max_row == 4

    (rule,) = ws.data_validations.dataValidation
    assert rule.type == "list"
    assert rule.formula1 == '"确认,排除"'
    assert rule.allow_blank
    assert str(rule.sqref) == "L2:L4"

    for row, anchor in ((2, "flag-00000001-1"), (3, "flag-00000002-1"), (4, "flag-00000003-1")):
        cell = ws[f"K{row}"]
        assert cell.value == "查看"
        assert cell.hyperlink.target == f"report.html#{anchor}"

    assert [ws[f"D{r}"].value for r in (2, 3, 4)] == ["错误", "警告", "提示"]

    # Text that openpyxl would take for a formula or an error code stays text.
    assert ws["E2"].value == "=SUM(A1:A9) 与合计不符"
    assert ws["F2"].value == "#N/A"
    assert ws["H2"].value == "-4.31"
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            if cell.value is not None:
                assert cell.data_type == "s", cell.coordinate
                assert isinstance(cell.value, str)

    evidence = ws["I3"].value
    assert len(evidence) == 32_767
    assert evidence.startswith("预算执行率为百分之九十。预算执行率")
    assert evidence.endswith("（已截断）")

    assert ws["B4"].value == "附件2：乡村振兴补助资金绩效自评报告"
    assert ws["I4"].value == "农户满意度≥95%，实际完成90%，得分10分（满分10分）"
    assert ws["J4"].value == "表2第5行"
    # Nothing reviewed yet.
    assert all(ws[f"{c}{r}"].value is None for c in "LM" for r in (2, 3, 4))


def test_column_widths_fit_the_content(tmp_path: Path) -> None:
    path = tmp_path / "flags.xlsx"
    write_workbook(path, [FORMULA, HUGE, CJK])
    ws = read(path)
    width = {name: ws.column_dimensions[column(name)].width for name in HEADER_ROW}
    # 甲县2023年度自评报告.pdf: 8 CJK × 2 + 8 narrow = 24, plus 2 of margin.
    assert width["文件"] == 26
    # 附件2：乡村振兴补助资金绩效自评报告: 16 CJK and the full-width colon × 2 + "2" = 35, plus 2.
    assert width["报告"] == 37
    # 严重程度: the header (4 CJK = 8) and room for the filter button beat 错误/警告/提示.
    assert width["严重程度"] == 12
    # 预算执行率应为 95.00%，报告写 98%: 10 CJK and the full-width comma × 2 + 11 narrow = 33, plus 2; it beats
    # 指标“农户满意度”未完成却得满分 (14 CJK and 2 curly quotes × 2 = 32, plus 2).
    assert width["问题"] == 35
    assert width["证据原文"] == 60
    assert ws["I3"].alignment.wrap_text
    assert ws["E2"].alignment.wrap_text
    assert not ws["A2"].alignment.wrap_text


def test_control_characters_do_not_break_the_workbook(tmp_path: Path) -> None:
    path = tmp_path / "flags.xlsx"
    write_workbook(path, [flag(evidence="合计\x0c100万元\x01", message="\t+1")])
    ws = read(path)
    assert ws["I2"].value == "合计\ufffd100万元\ufffd"
    assert ws["E2"].value == "\t+1"


def test_empty_flag_list_writes_the_header_row(tmp_path: Path) -> None:
    path = tmp_path / "flags.xlsx"
    write_workbook(path, [])
    ws = read(path)
    assert ws.max_row == 1
    assert [c.value for c in ws[1]] == HEADER_ROW
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:M1"
    assert len(Baseline.load(path)) == 0


def test_unwritable_target_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        write_workbook(tmp_path / "missing" / "flags.xlsx", [CJK])
    assert "flags.xlsx" in caught.value.reason
    assert list(tmp_path.iterdir()) == []


# --- round trip: write, review as a person would in Excel, read back -----------------------------------------

DROPPED = flag(
    file="乙县.docx", check="SUM", evidence="合计 1,200 万元 … 其中 A 500 万元、B 600 万元", anchor="flag-b-1"
)
KEPT = flag(file="乙县.docx", check="BALANCE", evidence="年末结余 20 万元", anchor="flag-b-2")
PENDING = flag(file="丙县.txt", check="RATIO", evidence="占比 35%", anchor="flag-c-1")
UNTOUCHED = flag(file="丙县.txt", check="CHANGE", evidence="较上年增长 12%", anchor="flag-c-2")


def review(src: Path, dst: Path, marks: dict[int, tuple[str, str | None]]) -> None:
    """Fill 结论/备注 of the given data rows (1-based) with openpyxl and save a copy."""
    wb = load_workbook(src)
    ws = wb["问题清单"]
    for row, (verdict, note) in marks.items():
        ws[f"L{row + 1}"] = verdict
        if note is not None:
            ws[f"M{row + 1}"] = note
    wb.save(dst)


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    first = tmp_path / "flags.xlsx"
    write_workbook(first, [DROPPED, KEPT, PENDING, UNTOUCHED, HUGE])
    path = tmp_path / "reviewed.xlsx"
    review(first, path, {1: ("排除", None), 2: ("确认", "已与单位核实"), 3: (" 待定 ", None), 5: ("排除", "重复")})
    return path


def test_baseline_reads_the_verdicts(reviewed: Path) -> None:
    baseline = Baseline.load(reviewed)
    assert len(baseline) == 3
    assert baseline.dismissed(DROPPED)
    assert baseline.verdict(DROPPED) == ("排除", "")
    assert not baseline.dismissed(KEPT)
    assert baseline.verdict(KEPT) == ("确认", "已与单位核实")
    assert baseline.verdict(PENDING) is None  # 待定 is no verdict
    assert baseline.verdict(UNTOUCHED) is None
    assert not baseline.dismissed(UNTOUCHED)
    # Cut to 32,767 characters in the workbook, yet the full evidence of the rerun still matches.
    assert baseline.verdict(HUGE) == ("排除", "重复")


def test_baseline_matches_on_file_check_and_evidence_only(reviewed: Path) -> None:
    baseline = Baseline.load(reviewed)
    reworded = dict(DROPPED, message="合计与分项之和相差 100 万元", severity="warning", stated="1200", anchor="x")
    assert baseline.dismissed(reworded)
    respaced = dict(DROPPED, evidence="合计1,200万元 …\n其中A 500万元、B 600万元 ")
    assert baseline.dismissed(respaced)
    assert baseline.verdict(dict(DROPPED, evidence="合计 1,300 万元 … 其中 A 500 万元、B 600 万元")) is None
    assert baseline.verdict(dict(DROPPED, file="丁县.docx")) is None
    assert baseline.verdict(dict(DROPPED, check="RATIO")) is None
    assert baseline.dismissed(dict(DROPPED, file=" 乙县.docx ", check="SUM "))


def test_rerun_prefills_the_review(reviewed: Path, tmp_path: Path) -> None:
    baseline = Baseline.load(reviewed)
    again = tmp_path / "again.xlsx"
    reworded = dict(KEPT, message="年末结余应为 25 万元")
    write_workbook(again, [UNTOUCHED, reworded, DROPPED], baseline)
    ws = read(again)
    assert [(ws[f"L{r}"].value, ws[f"M{r}"].value) for r in (2, 3, 4)] == [
        (None, None),
        ("确认", "已与单位核实"),
        ("排除", None),
    ]
    assert ws["E3"].value == "年末结余应为 25 万元"


def test_baseline_survives_a_reordered_sorted_copy(tmp_path: Path) -> None:
    """A reviewer moved columns, added one, put a title above, sorted the rows and pasted evidence from flags.csv."""
    wb = Workbook()
    notes = wb.active
    notes.title = "说明"
    notes["A1"] = "复核说明"
    ws = wb.create_sheet("问题清单")
    ws.append(["2024 年复核底稿"])
    ws.append(["结论", "复核人", "证据原文", "备注", "检查", "问题", "文件"])
    ws.append(
        ["\u3000排除 ", "张三", "'=合计 1,200 万元 … 其中 A 500 万元、B 600 万元", None, "SUM", "旧措辞", "乙县.docx"]
    )
    ws.append(["确认", "李四", "年末结余\n20 万元", "已核实", " BALANCE ", None, "乙县.docx"])
    ws.append([None, "王五", "占比 35%", "未看", "RATIO", None, "丙县.txt"])
    path = tmp_path / "sorted.xlsx"
    wb.save(path)

    baseline = Baseline.load(path)
    assert len(baseline) == 2
    assert baseline.dismissed(dict(DROPPED, evidence="=合计 1,200 万元 … 其中 A 500 万元、B 600 万元"))
    assert baseline.verdict(KEPT) == ("确认", "已核实")
    assert baseline.verdict(PENDING) is None


def test_baseline_reads_the_first_sheet_without_a_problem_list(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["文件", "检查", "证据原文", "结论"])
    ws.append(["乙县.docx", "BALANCE", "年末结余 20 万元", "排除"])
    wb.create_sheet("其他").append(["文件", "检查", "证据原文", "结论"])
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    baseline = Baseline.load(path)
    assert len(baseline) == 1
    assert baseline.verdict(KEPT) == ("排除", "")  # no 备注 column at all


def test_a_confirmation_outweighs_a_dismissal_of_the_same_key(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["文件", "检查", "证据原文", "结论", "备注"])
    ws.append(["乙县.docx", "BALANCE", "年末结余 20 万元", "排除", "误报"])
    ws.append(["乙县.docx", "BALANCE", "年末结余 20 万元", "确认", "属实"])
    path = tmp_path / "twice.xlsx"
    wb.save(path)
    baseline = Baseline.load(path)
    assert len(baseline) == 2
    assert baseline.verdict(KEPT) == ("确认", "属实")
    assert not baseline.dismissed(KEPT)


def test_a_large_baseline_streams(tmp_path: Path) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问题清单")
    ws.append(["文件", "检查", "证据原文", "结论"])
    for i in range(20_000):
        ws.append([f"报告{i}.pdf", "SUM", f"合计 {i} 万元", "排除" if i % 2 else "确认"])
    path = tmp_path / "large.xlsx"
    wb.save(path)
    baseline = Baseline.load(path)
    assert len(baseline) == 20_000
    assert baseline.dismissed({"file": "报告19999.pdf", "check": "SUM", "evidence": "合计 19999 万元"})
    assert not baseline.dismissed({"file": "报告19998.pdf", "check": "SUM", "evidence": "合计 19998 万元"})


# --- baselines that are not one -------------------------------------------------------------------------------


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(4096)))


def _csv(path: Path) -> None:
    path.write_text("文件,检查,证据原文,结论\n乙县.docx,SUM,合计,排除\n", encoding="utf-8-sig")


def _docx(path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("文件 检查 证据原文 结论")
    document.save(str(path))


def _old_xls(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


def _broken_package(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<not-closed")


def _no_headers(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["文件", "检查", "说明"])
    ws.append(["乙县.docx", "SUM", "排除"])
    wb.save(path)


def _no_sheet_rows(path: Path) -> None:
    Workbook().save(path)


@pytest.mark.parametrize(
    ("name", "make", "why"),
    [
        ("missing.xlsx", None, "文件不存在"),
        ("noise.xlsx", _random_bytes, "不是 Excel 工作簿"),
        ("flags.csv.xlsx", _csv, "不是 Excel 工作簿"),
        ("report.xlsx", _docx, "不是 Excel 工作簿（是其他 zip 文件）"),
        ("old.xlsx", _old_xls, "旧版 .xls 或加密"),
        ("broken.xlsx", _broken_package, "工作簿已损坏或格式不受支持"),
        ("headers.xlsx", _no_headers, "缺少列 证据原文、结论"),
        ("blank.xlsx", _no_sheet_rows, "缺少列 文件、检查、证据原文、结论"),
    ],
)
def test_bad_baseline_is_one_line_naming_the_file(tmp_path: Path, name: str, make, why: str) -> None:
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(BaselineError) as caught:
        Baseline.load(path)
    reason = caught.value.reason
    assert reason.startswith(f"复核底稿 {path} 无法读取：")
    assert why in reason
    assert "\n" not in reason
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, AuditorError)


def test_a_folder_is_not_a_baseline(tmp_path: Path) -> None:
    with pytest.raises(BaselineError) as caught:
        Baseline.load(tmp_path)
    assert str(tmp_path) in caught.value.reason
    assert "\n" not in caught.value.reason


def test_a_newline_in_the_name_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "复核\n底稿.xlsx"
    _random_bytes(path)
    with pytest.raises(BaselineError) as caught:
        Baseline.load(path)
    assert "\n" not in caught.value.reason
    assert "复核\ufffd底稿.xlsx" in caught.value.reason


def test_evidence_falls_back_to_the_distinct_quotes(tmp_path: Path) -> None:
    quotes = [
        {"text": t, "start": 0, "end": 1, "page": None} for t in ("合计 100 万元", "其中 A 60 万元", "合计 100 万元")
    ]
    bare = {k: v for k, v in flag(quotes=quotes).items() if k != "evidence"}
    path = tmp_path / "flags.xlsx"
    write_workbook(path, [bare])
    assert read(path)["I2"].value == "合计 100 万元 … 其中 A 60 万元"
