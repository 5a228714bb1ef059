"""The loaders: text encodings, the table text contract, and PDF/DOCX versions of the seeds."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import docx
import pymupdf
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from auditor.documents import Document, join_lines, load
from auditor.errors import LoadError

from .conftest import FIXTURES, SEEDS

CONVERTED = FIXTURES / "converted"
NUMBER = re.compile(r"\d+(?:\.\d+)?")

_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES.parent / "scripts" / "make_fixtures.py")
assert _spec is not None and _spec.loader is not None
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)
seed_blocks = make_fixtures.seed_blocks


def squash(text: str) -> str:
    """Compare modulo whitespace: a wrapped line may lose or gain the space it was cut at."""
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- text files


def test_utf8_text_is_verbatim_but_for_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("一级指标\t权重\r\n项目决策\t18%  \r\n\r\n  末行\r旧式换行".encode())
    doc = load(path)
    assert doc.text == "一级指标\t权重\n项目决策\t18%  \n\n  末行\n旧式换行"
    assert doc.kind == "txt"
    assert doc.page_starts is None
    assert doc.page_of(3) is None
    assert doc.notes == ()


def test_bom_is_stripped_and_md_kind(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"\xef\xbb\xbf# \xe6\xa0\x87\xe9\xa2\x98\n")
    doc = load(path)
    assert doc.text == "# 标题\n"
    assert doc.kind == "md"


def test_gb18030_text(tmp_path: Path) -> None:
    path = tmp_path / "gb.txt"
    path.write_bytes("预算执行率为90.48%。\n".encode("gb18030"))
    doc = load(path)
    assert doc.text == "预算执行率为90.48%。\n"
    assert any("GB18030" in n for n in doc.notes)


def test_charset_normalizer_fallback(tmp_path: Path) -> None:
    # 0xE9 followed by a space is neither UTF-8 nor GB18030: cp1252/latin-1 text.
    path = tmp_path / "latin.txt"
    path.write_bytes("Budget execution caf\u00e9 report 90.48 per cent\n".encode("cp1252"))
    doc = load(path)
    assert "90.48" in doc.text
    assert "Budget execution" in doc.text
    assert doc.notes, "the guessed encoding is reported"


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_seed_text_loads_verbatim(seed: Path) -> None:
    assert load(seed).text == seed.read_text(encoding="utf-8").replace("\r\n", "\n")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "report.xyz"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load(path)
    assert err.value.reason == "不支持的文件类型 .xyz"
    assert err.value.path == str(path)


# --------------------------------------------------------------------------- joining lines


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        (["宁医", "保函〔2023〕286号"], "宁医保函〔2023〕286号"),  # a label cut by the wrap
        (["实际支出", "465.41万元"], "实际支出465.41万元"),
        (["13805", "0.24"], "138050.24"),  # a number cut by the wrap
        (["100.00", "%"], "100.00%"),
        (["DRG", "DIP"], "DRG DIP"),  # two ASCII words keep their space
        (["按DRG", "付费"], "按DRG付费"),
        (["目标 1: ", " 提升"], "目标 1: 提升"),
        (["", "单行", ""], "单行"),
    ],
)
def test_join_lines(lines: list[str], joined: str) -> None:
    assert join_lines(lines) == joined


# --------------------------------------------------------------------------- docx


def _docx(path: Path, build) -> Path:  # type: ignore[no-untyped-def]
    document = docx.Document()
    build(document)
    document.save(str(path))
    return path


def test_docx_paragraphs_and_table_in_order_with_blank_lines(tmp_path: Path) -> None:
    def build(d):  # type: ignore[no-untyped-def]
        d.add_paragraph("一级指标权重及得分情况如下表所示:")
        t = d.add_table(rows=2, cols=3)
        for r, row in enumerate([["一级指标", "权重", "得分"], ["项目决策", "18%", "18"]]):
            for c, text in enumerate(row):
                t.cell(r, c).text = text
        d.add_paragraph("(2) 评价结论。")

    doc = load(_docx(tmp_path / "a.docx", build))
    assert doc.kind == "docx"
    assert doc.page_starts is None
    assert doc.text == "一级指标权重及得分情况如下表所示:\n\n一级指标\t权重\t得分\n项目决策\t18%\t18\n\n(2) 评价结论。"


def test_docx_merged_cells_give_text_once(tmp_path: Path) -> None:
    def build(d):  # type: ignore[no-untyped-def]
        t = d.add_table(rows=3, cols=4)
        t.cell(0, 0).merge(t.cell(1, 0)).text = "产出指标"  # merged down
        t.cell(0, 1).merge(t.cell(0, 2)).text = "数量指标"  # merged across
        t.cell(0, 3).text = "2"
        for r, c, text in [(1, 1, "a"), (1, 2, "b"), (1, 3, "c"), (2, 0, "1"), (2, 1, "2"), (2, 2, "3"), (2, 3, "4")]:
            t.cell(r, c).text = text

    doc = load(_docx(tmp_path / "m.docx", build))
    assert doc.text.split("\n") == ["产出指标\t数量指标\t\t2", "\ta\tb\tc", "1\t2\t3\t4"]


def test_docx_cell_lines_are_joined_and_tabs_removed(tmp_path: Path) -> None:
    def build(d):  # type: ignore[no-untyped-def]
        t = d.add_table(rows=1, cols=3)
        cell = t.cell(0, 0)
        cell.text = "宁医"
        cell.add_paragraph("保函")
        t.cell(0, 1).text = "DRG"
        t.cell(0, 1).add_paragraph("DIP")
        t.cell(0, 2).text = " 有\t制表符 "

    doc = load(_docx(tmp_path / "c.docx", build))
    assert doc.text == "宁医保函\tDRG DIP\t有 制表符"


def test_docx_malformed_vertical_merge_in_first_row(tmp_path: Path) -> None:
    def build(d):  # type: ignore[no-untyped-def]
        t = d.add_table(rows=2, cols=2)
        t.cell(0, 1).text = "x"
        t.cell(1, 0).text = "y"
        tc = t.cell(0, 0)._tc
        tc.get_or_add_tcPr().append(OxmlElement("w:vMerge"))  # "continue" with nothing above

    doc = load(_docx(tmp_path / "v.docx", build))
    assert doc.text.split("\n") == ["\tx", "y\t"]


def test_docx_skips_deleted_text_and_reads_insertions(tmp_path: Path) -> None:
    def build(d):  # type: ignore[no-untyped-def]
        p = d.add_paragraph("得分")
        ins = OxmlElement("w:ins")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "91.54"
        run.append(text)
        ins.append(run)
        p._p.append(ins)
        dele = OxmlElement("w:del")
        run = OxmlElement("w:r")
        text = OxmlElement("w:delText")
        text.text = "90.00"
        run.append(text)
        dele.append(run)
        p._p.append(dele)
        p.add_run("分")

    assert load(_docx(tmp_path / "i.docx", build)).text == "得分91.54分"


def test_docx_grid_before_pads_the_row(tmp_path: Path) -> None:
    def build(d):  # type: ignore[no-untyped-def]
        t = d.add_table(rows=2, cols=3)
        for c, text in enumerate(["a", "b", "c"]):
            t.cell(0, c).text = text
        tr = t.rows[1]._tr
        tr.remove(tr.tc_lst[0])  # the row starts one grid column late
        trpr = tr.get_or_add_trPr()
        before = OxmlElement("w:gridBefore")
        before.set(qn("w:val"), "1")
        trpr.append(before)
        tr.tc_lst[0].append(d.add_paragraph("y")._p)

    doc = load(_docx(tmp_path / "g.docx", build))
    assert doc.text.split("\n")[1] == "\ty\t"


# --------------------------------------------------------------------------- pdf (synthetic)


def _story_pdf(path: Path, html: str) -> Path:
    css = (
        "body{font-size:10.5pt} p{margin:0 0 6pt 0} table{border-collapse:collapse;width:100%}"
        " td{border:0.6pt solid black;padding:2pt}"
    )
    story = pymupdf.Story(html=html, user_css=css)
    writer = pymupdf.DocumentWriter(str(path))
    more = True
    while more:
        device = writer.begin_page(pymupdf.paper_rect("a4"))
        more, _ = story.place(pymupdf.Rect(56, 56, 539, 786))
        story.draw(device)
        writer.end_page()
    writer.close()
    return path


def test_pdf_merged_cells_follow_the_contract(tmp_path: Path) -> None:
    pdf = _story_pdf(
        tmp_path / "m.pdf",
        "<p>前文</p><table>"
        "<tr><td rowspan='2'>产出指标</td><td colspan='2'>数量指标</td><td>2</td></tr>"
        "<tr><td>a</td><td>b</td><td>c</td></tr>"
        "<tr><td>1</td><td>2</td><td>3</td><td>4</td></tr></table><p>后文</p>",
    )
    doc = load(pdf)
    assert doc.kind == "pdf"
    assert doc.text == "前文\n\n产出指标\t数量指标\t\t2\n\ta\tb\tc\n1\t2\t3\t4\n\n后文"


def test_pdf_wrapped_paragraph_is_one_line(tmp_path: Path) -> None:
    label = "宁医保函〔2023〕286号"
    filler = "根据自治区医保局关于做好医保转移支付资金绩效评价相关工作的通知" * 3
    pdf = _story_pdf(tmp_path / "w.pdf", f"<p>{filler}{label}文件要求。</p><p>第二段。</p>")
    page_text = pymupdf.open(pdf)[0].get_text()
    assert page_text.count("\n") > 2, "the fixture paragraph must actually wrap"
    assert load(pdf).text == f"{filler}{label}文件要求。\n第二段。"


def test_pdf_fake_bold_and_watermark(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    page = pdf.new_page()
    # Word's fake bold draws the glyphs twice, a fraction of a point apart.
    page.insert_text((72, 100), "年末资金结余48.99万元", fontname="china-s", fontsize=12)
    page.insert_text((72.3, 100), "年末资金结余48.99万元", fontname="china-s", fontsize=12)
    page.insert_text(
        (150, 500),
        "仅供内部使用 123",
        fontname="china-s",
        fontsize=40,
        morph=(pymupdf.Point(150, 500), pymupdf.Matrix(-45)),
    )
    pdf.save(tmp_path / "b.pdf")
    assert load(tmp_path / "b.pdf").text == "年末资金结余48.99万元"


# --------------------------------------------------------------------------- converted seeds

CONVERTED_FILES = sorted(p for p in CONVERTED.glob("*") if p.suffix in {".pdf", ".docx"})


def seed_of(path: Path) -> Path:
    return SEEDS / (path.stem + ".txt")


def test_converted_fixtures_exist() -> None:
    stems = {p.stem[:3] for p in CONVERTED_FILES}
    assert {"000", "003", "004"} <= stems
    for path in CONVERTED_FILES:
        assert seed_of(path).exists(), f"{path.name} has no seed"


@pytest.fixture(scope="module")
def loaded() -> dict[Path, Document]:
    return {path: load(path) for path in CONVERTED_FILES}


@pytest.mark.parametrize("path", CONVERTED_FILES, ids=lambda p: p.name)
def test_converted_same_numbers_as_seed(path: Path, loaded: dict[Path, Document]) -> None:
    seed_text = seed_of(path).read_text(encoding="utf-8")
    doc = loaded[path]
    assert Counter(NUMBER.findall(doc.text)) == Counter(NUMBER.findall(seed_text))


@pytest.mark.parametrize("path", CONVERTED_FILES, ids=lambda p: p.name)
def test_converted_paragraphs_are_lines(path: Path, loaded: dict[Path, Document]) -> None:
    lines = {squash(line) for line in loaded[path].text.split("\n")}
    blocks = seed_blocks(seed_of(path).read_text(encoding="utf-8"))
    missing = [str(p) for kind, p in blocks if kind == "p" and squash(str(p)) not in lines]
    assert not missing, f"paragraphs not found as one line: {missing[:3]}"


@pytest.mark.parametrize("path", CONVERTED_FILES, ids=lambda p: p.name)
def test_converted_table_rows_are_tab_lines(path: Path, loaded: dict[Path, Document]) -> None:
    text = loaded[path].text
    row_lines = [[squash(c) for c in line.split("\t")] for line in text.split("\n") if "\t" in line]
    blocks = seed_blocks(seed_of(path).read_text(encoding="utf-8"))
    seed_rows = [row for kind, rows in blocks if kind == "t" for row in rows]  # type: ignore[attr-defined]
    if not seed_rows:
        assert not row_lines, "a seed without tables must not gain any"
        return
    missing = []
    for row in seed_rows:
        cells = [squash(c) for c in row]
        while cells and not cells[-1]:
            cells.pop()  # padding: the rendered table may be wider than this seed row
        n = len(cells)
        if not any(line[i : i + n] == cells for line in row_lines for i in range(len(line) - n + 1)):
            missing.append(row)
    assert not missing, f"{len(missing)} table rows not found, e.g. {missing[:2]}"


@pytest.mark.parametrize("path", [p for p in CONVERTED_FILES if p.suffix == ".pdf"], ids=lambda p: p.name)
def test_converted_pdf_tables_have_blank_lines_around(path: Path, loaded: dict[Path, Document]) -> None:
    lines = loaded[path].text.split("\n")
    for i, line in enumerate(lines):
        if "\t" not in line:
            continue
        if i > 0 and "\t" not in lines[i - 1]:
            assert lines[i - 1] == "", f"no blank line before table row {line[:30]!r}"
        if i + 1 < len(lines) and "\t" not in lines[i + 1]:
            assert lines[i + 1] == "", f"no blank line after table row {line[:30]!r}"


def test_pdf_number_whose_digits_come_from_another_font(loaded: dict[Path, Document]) -> None:
    # In this PDF the digits and the decimal point are in different fonts; table.extract()
    # gives "13805024\n." here. The loader rebuilds the cell from the characters.
    doc = loaded[CONVERTED / "003_ff45a6316085bfcc.pdf"]
    assert "\t年度资金总额:\t138050.24\t138050.24\t100.00%\t\t" in doc.text.split("\n")


def _pdf_page_of(pdf: pymupdf.Document, needle: str) -> int:
    pages = [p.number + 1 for p in pdf if p.search_for(needle)]
    assert len(pages) == 1, f"{needle!r} should be on exactly one page, found {pages}"
    return pages[0]


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("003_ff45a6316085bfcc.pdf", ["138050.24", "医疗救助财政补助资金", "674", "巡察"]),
        ("004_f69b799b5693d40d.pdf", ["银金医保发", "91.54", "产出高效", "反欺诈监测试点工作开展情况指标分值", "4.7"]),
        ("000_76de77d70b614fce.pdf", ["48.99", "181.42", "绩效分析指标表"]),
    ],
)
def test_pdf_page_of_matches_the_pdf(name: str, needles: list[str], loaded: dict[Path, Document]) -> None:
    doc = loaded[CONVERTED / name]
    pdf = pymupdf.open(CONVERTED / name)
    assert doc.page_starts is not None
    assert doc.page_starts[0] == 0
    assert list(doc.page_starts) == sorted(set(doc.page_starts))
    assert len(doc.page_starts) == pdf.page_count
    for needle in needles:
        offset = doc.text.find(needle)
        assert offset >= 0, needle
        assert doc.page_of(offset) == _pdf_page_of(pdf, needle), needle


def test_last_table_of_003_is_on_a_late_page(loaded: dict[Path, Document]) -> None:
    doc = loaded[CONVERTED / "003_ff45a6316085bfcc.pdf"]
    last_row = [line for line in doc.text.split("\n") if "\t" in line][-1]
    assert last_row.startswith("说明\t")
    page = doc.page_of(doc.text.rfind(last_row))
    assert page is not None and page > 1
    assert page == len(doc.page_starts or ())
    for match in NUMBER.finditer(doc.text):
        assert (doc.page_of(match.start()) or 0) >= 1


def test_paragraph_running_on_to_next_page_is_one_line(loaded: dict[Path, Document]) -> None:
    doc = loaded[CONVERTED / "000_76de77d70b614fce.pdf"]
    line = next(ln for ln in doc.text.split("\n") if ln.startswith("15.医保信息系统运行维护响应时间"))
    assert line.endswith("小于30分钟。得5分。")
    start = doc.text.find(line)
    # The line starts on page 1 and ends on page 2: page_starts points inside it.
    assert doc.page_of(start) == 1
    assert doc.page_of(start + len(line) - 1) == 2


def test_docx_of_seed_has_no_pages(loaded: dict[Path, Document]) -> None:
    doc = loaded[CONVERTED / "003_ff45a6316085bfcc.docx"]
    assert doc.kind == "docx"
    assert doc.page_starts is None


def test_loading_a_pdf_prints_nothing() -> None:
    code = (
        "from pathlib import Path; from auditor.documents import load; "
        f"load(Path({str(CONVERTED / '003_ff45a6316085bfcc.pdf')!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=FIXTURES.parent
    )
    assert result.stdout == ""
