"""The auditor's Excel working paper: flags.xlsx, one row per finding for a reviewer to mark 确认 or 排除, and the
Baseline that reads such a reviewed workbook back so a rerun keeps the reviewer's verdicts."""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from auditor.errors import BaselineError, OutputError

SHEET = "问题清单"
HEADERS: tuple[tuple[str, str], ...] = (
    ("file", "文件"),
    ("unit", "报告"),
    ("check", "检查"),
    ("severity", "严重程度"),
    ("message", "问题"),
    ("stated", "报告所写"),
    ("computed", "核算结果"),
    ("difference", "差额"),
    ("evidence", "证据原文"),
    ("location", "位置"),
    ("anchor", "复核页面"),
    ("verdict", "结论"),
    ("note", "备注"),
)
CONFIRMED = "确认"
DISMISSED = "排除"
VERDICTS = (CONFIRMED, DISMISSED)
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}
REPORT_PAGE = "report.html"
LINK_TEXT = "查看"

MAX_CELL = 32_767  # Excel's limit, counted in UTF-16 units
_CUT_MARK = "……（已截断）"
_WIDTH_CAP = 60  # wider columns wrap instead
_WRAPPED = frozenset({"message", "evidence"})
_REQUIRED = ("文件", "检查", "证据原文", "结论")
_HEADER_ROWS = 20  # a reviewer may put a title or notes above the header row
_MAX_UNPACKED = 512 * 1024 * 1024  # a reviewed list of findings is far smaller; refuse zip bombs
_SPACE = re.compile(r"[\s\u200b\ufeff]+")

_COLUMN = {key: i for i, (key, _) in enumerate(HEADERS)}


def _cell_text(value: object) -> str:
    """The text a cell holds: characters XML cannot carry shown as �, cut to Excel's limit with a visible mark."""
    s = ILLEGAL_CHARACTERS_RE.sub("\ufffd", "" if value is None else str(value))
    if len(s) <= MAX_CELL // 2:
        return s
    units = s.encode("utf-16-le")
    if len(units) <= 2 * MAX_CELL:
        return s
    # errors="ignore" drops half a surrogate pair left at the cut.
    head = units[: 2 * (MAX_CELL - len(_CUT_MARK))].decode("utf-16-le", errors="ignore")
    return head + _CUT_MARK


def _evidence(flag: dict[str, object]) -> str:
    """The flag's evidence; from its quotes when the field is absent, as flags.csv joins them."""
    evidence = flag.get("evidence")
    if isinstance(evidence, str):
        return evidence
    quotes = flag.get("quotes")
    texts: list[str] = []
    for quote in quotes if isinstance(quotes, list) else []:
        text = quote.get("text") if isinstance(quote, dict) else None
        if isinstance(text, str) and text and text not in texts:
            texts.append(text)
    return " … ".join(texts)


def _evidence_key(text: str) -> str:
    # Whitespace differs between extractions and Excel edits; a flags.csv pasted in keeps its formula guard.
    s = _SPACE.sub("", text)
    return s[1:] if s.startswith("'") else s


def _key(file: object, check: object, evidence: str, message: object = "") -> tuple[str, str, str]:
    # Both sides as the workbook writes them (a control character in a file name becomes U+FFFD). A row with no
    # evidence (an LLM or GROUNDING row) is known by its message, so dismissing one does not dismiss them all.
    said = _evidence_key(_cell_text(evidence)) or "问题:" + _evidence_key(_cell_text(message))
    return (_cell_text(file).strip(), str(check or "").strip(), said)


def _flag_key(flag: dict[str, object]) -> tuple[str, str, str]:
    return _key(flag.get("file"), flag.get("check"), _evidence(flag), flag.get("message"))


def _display_width(text: str) -> int:
    """Columns the widest line takes, CJK characters counting 2; anything past the cap is cut short."""
    # Ambiguous ones (“”…×) count 2 as well: Chinese fonts draw them full width.
    widest = 0
    for line in text.split("\n"):
        if len(line) >= _WIDTH_CAP:
            return _WIDTH_CAP
        width = sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in line)
        widest = max(widest, width)
    return widest


class Baseline:
    """The verdicts of a reviewed flags.xlsx, keyed by file, check and evidence (whitespace ignored)."""

    def __init__(self, verdicts: dict[tuple[str, str, str], tuple[str, str]], rows: int) -> None:
        self._verdicts = verdicts
        self._rows = rows

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Read the verdicts of a reviewed workbook; a file that is not one raises BaselineError."""
        name = _shown(path)

        def fail(why: str) -> BaselineError:
            return BaselineError(f"复核底稿 {name} 无法读取：{why}", path=str(path))

        try:
            with open(path, "rb") as fh:
                _check_container(fh, fail)
                # openpyxl raises a zoo of exceptions on a damaged package (KeyError, ValueError, XML errors).
                try:
                    with warnings.catch_warnings():
                        # Slicers, sparklines and the like are dropped with a warning that means nothing here.
                        warnings.simplefilter("ignore")
                        wb = load_workbook(fh, read_only=True, data_only=True)
                        try:
                            return cls._read(wb, fail)
                        finally:
                            wb.close()
                except BaselineError:
                    raise
                except Exception as exc:
                    raise fail("工作簿已损坏或格式不受支持") from exc
        except FileNotFoundError as exc:
            raise fail("文件不存在") from exc
        except IsADirectoryError as exc:
            raise fail("这是一个文件夹") from exc
        except PermissionError as exc:
            raise fail("没有读取权限") from exc
        except OSError as exc:
            raise fail(exc.strerror or type(exc).__name__) from exc

    @classmethod
    def _read(cls, wb: Workbook, fail: Callable[[str], BaselineError]) -> Baseline:
        if not wb.worksheets:
            raise fail("没有工作表")
        sheet = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        columns = _find_header(rows, sheet.title, fail)
        found: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        count = 0
        for row in rows:
            verdict = _text(row, columns["结论"]).strip()
            if verdict not in VERDICTS:
                continue
            file, check = _text(row, columns["文件"]), _text(row, columns["检查"])
            if not file.strip() or not check.strip():
                continue
            note = _text(row, columns.get("备注")).strip()
            message = _text(row, columns.get("问题"))
            found.setdefault(_key(file, check, _text(row, columns["证据原文"]), message), []).append((verdict, note))
            count += 1
        return cls({key: _merge(marks) for key, marks in found.items()}, count)

    def verdict(self, flag: dict[str, object]) -> tuple[str, str] | None:
        """(结论, 备注) the reviewer gave this flag, or None when it was not reviewed."""
        return self._verdicts.get(_flag_key(flag))

    def dismissed(self, flag: dict[str, object]) -> bool:
        """True when the reviewer marked this flag 排除."""
        found = self.verdict(flag)
        return found is not None and found[0] == DISMISSED

    def __len__(self) -> int:
        return self._rows


def _shown(path: str | os.PathLike[str]) -> str:
    # One line whatever the name holds: control characters (a newline in a file name) show as �.
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in str(path))


def _check_container(fh: IO[bytes], fail: Callable[[str], BaselineError]) -> None:
    """Refuse what is not an xlsx package before openpyxl sees it, with a reason a user can act on."""
    head = fh.read(8)
    fh.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise fail("是旧版 .xls 或加密的工作簿，请在 Excel 中另存为不加密的 .xlsx")
    if not head.startswith(b"PK"):
        raise fail("不是 Excel 工作簿")
    try:
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise fail("不是 Excel 工作簿") from exc
    finally:
        fh.seek(0)
    if not any(i.filename.startswith("xl/") for i in infos):
        raise fail("不是 Excel 工作簿（是其他 zip 文件）")
    if sum(i.file_size for i in infos) > _MAX_UNPACKED:
        raise fail(f"解压后超过 {_MAX_UNPACKED // 1024 // 1024} MB，不像复核底稿")


def _find_header(rows: Iterator[Sequence[object]], title: str, fail: Callable[[str], BaselineError]) -> dict[str, int]:
    """The column of each header by name, from the first row among the top ones that has all the required ones."""
    best: dict[str, int] = {}
    for _ in range(_HEADER_ROWS):
        row = next(rows, None)
        if row is None:
            break
        columns: dict[str, int] = {}
        for i in range(len(row)):
            header = _text(row, i).strip()
            if header and header not in columns:  # a second column of the same name is the reviewer's own
                columns[header] = i
        if all(h in columns for h in _REQUIRED):
            return columns
        if sum(h in columns for h in _REQUIRED) > sum(h in best for h in _REQUIRED):
            best = columns
    missing = "、".join(h for h in _REQUIRED if h not in best)
    raise fail(f"工作表「{_shown(title)}」缺少列 {missing}")


def _text(row: Sequence[object], column: int | None) -> str:
    if column is None or column >= len(row):
        return ""
    value = row[column]
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _merge(marks: list[tuple[str, str]]) -> tuple[str, str]:
    """One verdict for rows that share a key: 确认 wins, so a flag a reviewer confirmed anywhere is never hidden."""
    verdict = CONFIRMED if any(v == CONFIRMED for v, _ in marks) else DISMISSED
    notes: list[str] = []
    for v, note in marks:
        if v == verdict and note and note not in notes:
            notes.append(note)
    return verdict, "；".join(notes)


def _row(flag: dict[str, object], baseline: Baseline | None) -> list[str]:
    values = {key: flag.get(key) for key, _ in HEADERS}
    values["evidence"] = _evidence(flag)
    severity = str(flag.get("severity") or "")
    values["severity"] = SEVERITY_NAMES.get(severity, severity)
    values["anchor"] = LINK_TEXT if flag.get("anchor") else ""
    verdict = baseline.verdict(flag) if baseline is not None else None
    values["verdict"], values["note"] = verdict or ("", "")
    return [_cell_text(values[key]) for key, _ in HEADERS]


def write_workbook(path: Path, flags: list[dict[str, object]], baseline: Baseline | None = None) -> None:
    """Write flags.xlsx: the sheet 问题清单 with one row per flag, ready for a reviewer to fill 结论 and 备注."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    widths = [_display_width(header) + 4 for _, header in HEADERS]  # room for the filter button
    bold = Font(bold=True)
    for column, (_, header) in enumerate(HEADERS, start=1):
        ws.cell(row=1, column=column, value=header).font = bold
    top, wrapped = Alignment(vertical="top"), Alignment(vertical="top", wrap_text=True)
    link = Font(color="0563C1", underline="single")
    wrap = [key in _WRAPPED for key, _ in HEADERS]
    for r, flag in enumerate(flags, start=2):
        for c, text in enumerate(_row(flag, baseline)):
            if not text:
                continue
            cell = ws.cell(row=r, column=c + 1, value=text)
            # openpyxl reads a leading = as a formula and #N/A as an error; a report's text is neither.
            cell.data_type = "s"
            cell.alignment = wrapped if wrap[c] else top
            widths[c] = max(widths[c], _display_width(text) + 2)
        anchor = str(flag.get("anchor") or "")
        if anchor:
            cell = ws.cell(row=r, column=_COLUMN["anchor"] + 1)
            # Relative, so the workbook opens report.html beside it wherever the output folder is moved.
            cell.hyperlink = f"{REPORT_PAGE}#{anchor}"
            cell.font = link
    last = get_column_letter(len(HEADERS))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{len(flags) + 1}"
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(width, _WIDTH_CAP)
    if flags:
        verdict = get_column_letter(_COLUMN["verdict"] + 1)
        rule = DataValidation(
            type="list",
            formula1=f'"{",".join(VERDICTS)}"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="结论",
            error="请选择 确认 或 排除，未复核的留空",
        )
        rule.add(f"{verdict}2:{verdict}{len(flags) + 1}")
        ws.add_data_validation(rule)
    _save(wb, path)


def _save(wb: Workbook, path: Path) -> None:
    """Save beside the target and rename, so an interrupted write never leaves half a workbook."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputError(f"无法写入 {_shown(path)}：{exc.strerror or exc}", path=str(path)) from exc
