"""Make fixtures/tables/: seven table shapes, each rendered in eleven layouts/formats, clean and with planted errors.

Run from the repo root (the outputs are committed):

    python scripts/make_tables.py

For every shape a folder fixtures/tables/<shape>/ gets

- <layout>_clean.<ext>: a title sentence with the unit, the table, (for allocation/sangong) one prose sentence
  that restates a table figure; every relation of the table holds;
- <layout>_errK.<ext>: the clean table with exactly ONE cell (or the prose figure) changed;
- expected.csv: file,check,severity,stated,why — one row per relation that the changed cell breaks.

Layouts: pipe_lead (.md), pipe_trail, cells_bar, cells_alt, cells_blank, oneline, tab, spaces (.txt), docx (.docx),
pdf and pdf_unruled (.pdf).

The broken relations, their stated values and the correct values are written by hand below (ERRS of each
shape). The script does not derive them from any tool: it recomputes every relation of every table with
interval arithmetic (a number written with d decimals stands for ±0.5·10^-d) and asserts that the clean
table satisfies all of them and that each err table breaks exactly the hand-listed ones, with the
hand-written stated and correct values. A failing test against these fixtures is a finding about the tool,
not a reason to edit expected.csv.
"""

# ruff: noqa: E501  (table content is data)
from __future__ import annotations

import csv
import re
import shutil
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import docx
import pymupdf
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "fixtures" / "tables"
EXPECTED_COLUMNS = ("file", "check", "severity", "stated", "why")
PROSE = "prose"  # the cell reference of the figure restated in the prose after the table


# --------------------------------------------------------------------------------------------------------
# Interval arithmetic on numbers as written
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Iv:
    lo: Decimal
    hi: Decimal

    def __add__(self, o: Iv) -> Iv:
        return Iv(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o: Iv) -> Iv:
        return Iv(self.lo - o.hi, self.hi - o.lo)

    def __truediv__(self, o: Iv) -> Iv:
        assert o.lo > 0, "denominators are positive in these tables"
        c = [self.lo / o.lo, self.lo / o.hi, self.hi / o.lo, self.hi / o.hi]
        return Iv(min(c), max(c))

    def times(self, k: int) -> Iv:
        return Iv(self.lo * k, self.hi * k)

    def meets(self, o: Iv) -> bool:
        return self.lo <= o.hi and o.lo <= self.hi


ZERO = Iv(Decimal(0), Decimal(0))


def clean_num(text: str) -> str:
    return text.replace(",", "").replace("%", "").strip()


def iv(text: str) -> Iv:
    """The interval a cell stands for; an empty cell is an exact 0."""
    t = clean_num(text)
    if t == "":
        return ZERO
    d = Decimal(t)
    decimals = max(0, -d.as_tuple().exponent)
    half = Decimal(5) * Decimal(10) ** -(decimals + 1)
    return Iv(d - half, d + half)


def point(text: str) -> Decimal:
    t = clean_num(text)
    return Decimal(t) if t else Decimal(0)


def decimals_of(text: str) -> int:
    return max(0, -Decimal(clean_num(text)).as_tuple().exponent)


# --------------------------------------------------------------------------------------------------------
# Table model
# --------------------------------------------------------------------------------------------------------

Ref = tuple[str, str]  # (row label, column label), or PROSE


@dataclass
class Table:
    before: list[str]  # prose lines above the table (title sentence with the unit, unit line)
    header: list[str]  # flat column labels (the text layouts use these)
    rows: list[list[str]]
    label_col: int = 0
    groups: list[tuple[str, int]] | None = None  # two-level header for docx/pdf: (group label, span)
    vmerge_cols: tuple[int, ...] = ()  # docx/pdf: equal consecutive cells in these columns are merged
    hmerge_empty: bool = False  # docx/pdf: a row whose label cell is empty is merged into the cell before it
    # pipe_trail: the header rows as a converter leaves a merged header, every label packed to the left
    # (the merged cells' positions lost); None renders the flat header
    packed: list[list[str]] | None = None
    after_tpl: str = ""  # prose after the table; {} is the restated figure(s)
    after_vals: tuple[str, ...] = ()

    @property
    def after(self) -> str:
        return self.after_tpl.format(*self.after_vals) if self.after_tpl else ""

    def label(self, row: list[str]) -> str:
        return row[self.label_col] or row[0]

    def cell(self, ref: Ref | str, k: int = 0) -> str:
        if ref == PROSE:
            return self.after_vals[k]
        r, c = ref
        j = self.header.index(c)
        hits = [row for row in self.rows if self.label(row) == r]
        assert len(hits) == 1, (ref, hits)
        return hits[0][j]

    def with_cell(self, ref: Ref | str, new: str) -> Table:
        if ref == PROSE:
            return replace(self, after_vals=(new, *self.after_vals[1:]))
        r, c = ref
        j = self.header.index(c)
        rows = [list(row) for row in self.rows]
        for row in rows:
            if self.label(row) == r:
                assert row[j] != new
                row[j] = new
        return replace(self, rows=rows)


# --------------------------------------------------------------------------------------------------------
# Relations
# --------------------------------------------------------------------------------------------------------


@dataclass
class Rel:
    rid: str  # unique within a shape
    check: str
    target: Ref | str
    kind: str  # sum | rate | le | dup
    plus: list[Ref] = field(default_factory=list)
    minus: list[Ref] = field(default_factory=list)
    den: Ref | None = None  # rate: (Σplus − Σminus) / den × 100
    prose_k: int = 0  # dup: which prose figure

    def evaluate(self, t: Table) -> tuple[bool, str, Iv, Decimal]:
        """(holds, stated text, computed interval, computed point value)."""
        stated = t.cell(self.target, self.prose_k)
        if self.kind == "dup":
            other = t.cell(self.plus[0])
            return iv(stated).meets(iv(other)), stated, iv(other), point(other)
        if self.kind == "le":  # target (得分) must not exceed plus[0] (分值)
            cap = t.cell(self.plus[0])
            return iv(stated).lo <= iv(cap).hi, stated, iv(cap), point(cap)
        acc, pt = ZERO, Decimal(0)
        for r in self.plus:
            acc, pt = acc + iv(t.cell(r)), pt + point(t.cell(r))
        for r in self.minus:
            acc, pt = acc - iv(t.cell(r)), pt - point(t.cell(r))
        if self.kind == "rate":
            assert self.den is not None
            acc, pt = (acc / iv(t.cell(self.den))).times(100), pt / point(t.cell(self.den)) * 100
        return iv(stated).meets(acc), stated, acc, pt


def col_sum(check: str, total: str, parts: list[str], cols: list[str]) -> list[Rel]:
    """`total` row = Σ `parts` rows, in each of `cols`."""
    return [Rel(f"{check} {total}/{c} col", check, (total, c), "sum", [(p, c) for p in parts]) for c in cols]


@dataclass
class Break:
    rid: str
    stated: str  # as written in the err file
    correct: str  # the value the relation gives, by hand (rounded like the stated value)
    why: str


@dataclass
class Err:
    ref: Ref | str
    new: str
    breaks: list[Break]


@dataclass
class Shape:
    name: str
    table: Table
    rels: list[Rel]
    errs: list[Err]
    alts: list[Rel] = field(default_factory=list)  # other readings of a relation: same verdict on every table


# --------------------------------------------------------------------------------------------------------
# 1. allocation — 分配表, 合计 at the top, two 小计 blocks
# --------------------------------------------------------------------------------------------------------

CITY = ["临江市第二人民医院", "临江市中医院"]
DIST = ["江北区", "青山区", "龙湾县", "石门市"]
ALLOC_MONEY = ["分配金额", "已提前下达", "本次下达"]
ALLOC_ROWS = ["合计", "市级小计", *CITY, "区(县、市)小计", *DIST]


def allocation() -> Shape:
    t = Table(
        before=["附件：2024年度临江市基层医疗服务能力提升补助资金分配表", "单位：万元"],
        header=["地区(单位)", *ALLOC_MONEY],
        rows=[
            ["合计", "1564", "450", "1114"],
            ["市级小计", "598", "190", "408"],
            ["临江市第二人民医院", "328", "100", "228"],
            ["临江市中医院", "270", "90", "180"],
            ["区(县、市)小计", "966", "260", "706"],
            ["江北区", "410", "120", "290"],
            ["青山区", "236", "60", "176"],
            ["龙湾县", "48", "", "48"],
            ["石门市", "272", "80", "192"],
        ],
        after_tpl="本次下达补助资金{}万元，请各地各单位按规定及时拨付使用。",
        after_vals=("1114",),
    )
    rels = [
        Rel(f"SUM {r}/分配金额 row", "SUM", (r, "分配金额"), "sum", [(r, "已提前下达"), (r, "本次下达")])
        for r in ALLOC_ROWS
    ]
    rels += col_sum("SUM", "合计", ["市级小计", "区(县、市)小计"], ALLOC_MONEY)
    rels += col_sum("SUM", "市级小计", CITY, ALLOC_MONEY)
    rels += col_sum("SUM", "区(县、市)小计", DIST, ALLOC_MONEY)
    rels += [Rel("DUPLICATE prose 本次下达", "DUPLICATE", PROSE, "dup", [("合计", "本次下达")])]
    errs = [
        Err(
            ("合计", "分配金额"),
            "1574",
            [
                Break(
                    "SUM 合计/分配金额 row",
                    "1574",
                    "1564",
                    "合计 分配金额 1574 != 已提前下达 450 + 本次下达 1114 (= 1564)",
                ),
                Break(
                    "SUM 合计/分配金额 col",
                    "1574",
                    "1564",
                    "合计 分配金额 1574 != 市级小计 598 + 区(县、市)小计 966 (= 1564)",
                ),
            ],
        ),
        Err(
            ("青山区", "本次下达"),
            "186",
            [
                Break(
                    "SUM 青山区/分配金额 row",
                    "236",
                    "246",
                    "青山区 分配金额 236 != 已提前下达 60 + 本次下达 186 (= 246)",
                ),
                Break(
                    "SUM 区(县、市)小计/本次下达 col",
                    "706",
                    "716",
                    "区(县、市)小计 本次下达 706 != 290 + 186 + 48 + 192 (= 716)",
                ),
            ],
        ),
        Err(
            ("龙湾县", "分配金额"),
            "58",
            [
                Break(
                    "SUM 龙湾县/分配金额 row",
                    "58",
                    "48",
                    "龙湾县 分配金额 58 != 已提前下达 (空) 0 + 本次下达 48 (= 48)",
                ),
                Break(
                    "SUM 区(县、市)小计/分配金额 col",
                    "966",
                    "976",
                    "区(县、市)小计 分配金额 966 != 410 + 236 + 58 + 272 (= 976)",
                ),
            ],
        ),
        Err(
            PROSE,
            "1141",
            [
                Break(
                    "DUPLICATE prose 本次下达", "1141", "1114", "正文 本次下达补助资金 1141 != 表中 合计 本次下达 1114"
                ),
            ],
        ),
    ]
    return Shape("allocation", t, rels, errs)


# --------------------------------------------------------------------------------------------------------
# 2. sangong — 三公经费, two years, 增减额 / 增减率, a 其中 block, 合计 at the top
# --------------------------------------------------------------------------------------------------------

SG_ABROAD, SG_CAR, SG_BUY, SG_RUN, SG_HOST = (
    "因公出国(境)费",
    "公务用车购置及运行维护费",
    "其中：公务用车购置费",
    "公务用车运行维护费",
    "公务接待费",
)
SG_Y0, SG_Y1, SG_D, SG_R = "2023年决算数", "2024年决算数", "增减额", "增减率(%)"


def sangong() -> Shape:
    t = Table(
        before=["2024年度部门“三公”经费决算支出情况如下表（单位：万元）："],
        header=["项目", SG_Y0, SG_Y1, SG_D, SG_R],
        groups=[("项目", 1), ("决算数", 2), ("比上年增减", 2)],
        rows=[
            ["合计", "78.75", "93.82", "15.07", "19.14"],
            [SG_ABROAD, "12.60", "8.40", "-4.20", "-33.33"],
            [SG_CAR, "46.80", "69.80", "23.00", "49.15"],
            [SG_BUY, "0.00", "28.50", "28.50", "—"],
            [SG_RUN, "46.80", "41.30", "-5.50", "-11.75"],
            [SG_HOST, "19.35", "15.62", "-3.73", "-19.28"],
        ],
        after_tpl="2024年“三公”经费决算合计{}万元，比上年增加{}万元。",
        after_vals=("93.82", "15.07"),
    )
    money = [SG_Y0, SG_Y1, SG_D]
    rels = col_sum("SUM", "合计", [SG_ABROAD, SG_CAR, SG_HOST], money)  # the 其中 rows are not added again
    rels += col_sum("SUM", SG_CAR, [SG_BUY, SG_RUN], money)
    for row in t.rows:
        r = t.label(row)
        rels.append(Rel(f"CHANGE {r}/{SG_D}", "CHANGE", (r, SG_D), "sum", [(r, SG_Y1)], [(r, SG_Y0)]))
        if row[4] != "—":  # a 2023 value of 0 has no rate: not checked
            rels.append(
                Rel(f"CHANGE {r}/{SG_R}", "CHANGE", (r, SG_R), "rate", [(r, SG_Y1)], [(r, SG_Y0)], den=(r, SG_Y0))
            )
    rels += [
        Rel("DUPLICATE prose 合计", "DUPLICATE", PROSE, "dup", [("合计", SG_Y1)], prose_k=0),
        Rel("DUPLICATE prose 增减额", "DUPLICATE", PROSE, "dup", [("合计", SG_D)], prose_k=1),
    ]
    errs = [
        Err(
            (SG_BUY, SG_D),
            "38.50",
            [
                Break(
                    f"CHANGE {SG_BUY}/{SG_D}",
                    "38.50",
                    "28.50",
                    "其中：公务用车购置费 增减额 38.50 != 2024年 28.50 - 2023年 0.00 (= 28.50)",
                ),
                Break(
                    f"SUM {SG_CAR}/{SG_D} col",
                    "23.00",
                    "33.00",
                    "公务用车购置及运行维护费 增减额 23.00 != 购置费 38.50 + 运行维护费 (-5.50) (= 33.00)",
                ),
            ],
        ),
        Err(
            (SG_HOST, SG_R),
            "-17.28",
            [
                Break(
                    f"CHANGE {SG_HOST}/{SG_R}",
                    "-17.28",
                    "-19.28",
                    "公务接待费 增减率 -17.28 != (15.62 - 19.35) / 19.35 × 100 (= -19.28)",
                ),
            ],
        ),
        Err(
            PROSE,
            "93.28",
            [
                Break(
                    "DUPLICATE prose 合计",
                    "93.28",
                    "93.82",
                    "正文 2024年“三公”经费决算合计 93.28 != 表中 合计 2024年决算数 93.82",
                ),
            ],
        ),
        Err(
            ("合计", SG_R),
            "18.14",
            [
                Break(
                    f"CHANGE 合计/{SG_R}",
                    "18.14",
                    "19.14",
                    "合计 增减率 18.14 != (93.82 - 78.75) / 78.75 × 100 (= 19.14)",
                ),
            ],
        ),
    ]
    # 增减率 read as stated 增减额 ÷ 2023 × 100 must give the same verdicts (no err depends on the reading)
    alts = [Rel(r.rid, r.check, r.target, "rate", [(r.target[0], SG_D)], den=r.den) for r in rels if r.kind == "rate"]
    return Shape("sangong", t, rels, errs, alts)


# --------------------------------------------------------------------------------------------------------
# 3. budget_exec — 序号, 年初/调整预算数, 决算数, 执行率; 合计 at the bottom
# --------------------------------------------------------------------------------------------------------

BE_ITEMS = ["基本公共卫生服务补助", "重大传染病防控经费", "医疗设备购置", "卫生人才培训", "信息化建设运维"]
BE_MONEY = ["年初预算数", "调整预算数", "决算数"]


def budget_exec() -> Shape:
    t = Table(
        before=["2024年度部门项目支出预算执行情况如下表所示（单位：万元）。"],
        header=["序号", "支出项目", *BE_MONEY, "执行率(%)"],
        label_col=1,
        hmerge_empty=True,  # 合计 spans 序号 + 支出项目 in docx/pdf
        rows=[
            ["1", "基本公共卫生服务补助", "850.00", "920.00", "887.46", "96.46"],
            ["2", "重大传染病防控经费", "320.00", "305.50", "276.18", "90.40"],
            ["3", "医疗设备购置", "1,200.00", "1,150.00", "1,018.75", "88.59"],
            ["4", "卫生人才培训", "96.00", "96.00", "93.20", "97.08"],
            ["5", "信息化建设运维", "410.00", "438.60", "402.33", "91.73"],
            ["合计", "", "2,876.00", "2,910.10", "2,677.92", "92.02"],
        ],
    )
    rels = col_sum("SUM", "合计", BE_ITEMS, BE_MONEY)
    rels += [
        Rel(f"EXEC_RATE {r}", "EXEC_RATE", (r, "执行率(%)"), "rate", [(r, "决算数")], den=(r, "调整预算数"))
        for r in [*BE_ITEMS, "合计"]
    ]
    errs = [
        Err(
            ("合计", "年初预算数"),
            "2,886.00",
            [
                Break(
                    "SUM 合计/年初预算数 col",
                    "2,886.00",
                    "2876.00",
                    "合计 年初预算数 2,886.00 != 850.00 + 320.00 + 1,200.00 + 96.00 + 410.00 (= 2,876.00)",
                ),
            ],
        ),
        Err(
            ("重大传染病防控经费", "执行率(%)"),
            "91.40",
            [
                Break(
                    "EXEC_RATE 重大传染病防控经费",
                    "91.40",
                    "90.40",
                    "重大传染病防控经费 执行率 91.40 != 决算数 276.18 / 调整预算数 305.50 × 100 (= 90.40)",
                ),
            ],
        ),
        Err(
            ("医疗设备购置", "决算数"),
            "1,081.75",
            [
                Break(
                    "EXEC_RATE 医疗设备购置",
                    "88.59",
                    "94.07",
                    "医疗设备购置 执行率 88.59 != 决算数 1,081.75 / 调整预算数 1,150.00 × 100 (= 94.07)",
                ),
                Break(
                    "SUM 合计/决算数 col",
                    "2,677.92",
                    "2740.92",
                    "合计 决算数 2,677.92 != 887.46 + 276.18 + 1,081.75 + 93.20 + 402.33 (= 2,740.92)",
                ),
            ],
        ),
        Err(
            ("合计", "执行率(%)"),
            "95.02",
            [
                Break(
                    "EXEC_RATE 合计",
                    "95.02",
                    "92.02",
                    "合计 执行率 95.02 != 决算数 2,677.92 / 调整预算数 2,910.10 × 100 (= 92.02)",
                ),
            ],
        ),
    ]
    return Shape("budget_exec", t, rels, errs)


# --------------------------------------------------------------------------------------------------------
# 4. income_balance — 上年结余 + (本年收入 − 本年支出) = 年末结余
# --------------------------------------------------------------------------------------------------------

IB_FUNDS = ["一般公共预算资金", "政府性基金", "其他资金"]
IB_COLS = ["上年结余", "本年收入", "本年支出", "本年结余", "年末结余"]


def income_balance() -> Shape:
    t = Table(
        before=["2024年度部门收入支出及结余情况表（单位：万元）"],
        header=["项目", *IB_COLS],
        rows=[
            ["一般公共预算资金", "35.20", "1,480.60", "1,452.35", "28.25", "63.45"],
            ["政府性基金", "120.00", "300.00", "356.40", "-56.40", "63.60"],
            ["其他资金", "8.75", "42.10", "39.90", "2.20", "10.95"],
            ["合计", "163.95", "1,822.70", "1,848.65", "-25.95", "138.00"],
        ],
    )
    rels = col_sum("SUM", "合计", IB_FUNDS, IB_COLS)
    for r in [*IB_FUNDS, "合计"]:
        rels.append(
            Rel(f"BALANCE {r}/本年结余", "BALANCE", (r, "本年结余"), "sum", [(r, "本年收入")], [(r, "本年支出")])
        )
        rels.append(Rel(f"BALANCE {r}/年末结余", "BALANCE", (r, "年末结余"), "sum", [(r, "上年结余"), (r, "本年结余")]))
    errs = [
        Err(
            ("政府性基金", "本年支出"),
            "365.40",
            [
                Break(
                    "BALANCE 政府性基金/本年结余",
                    "-56.40",
                    "-65.40",
                    "政府性基金 本年结余 -56.40 != 本年收入 300.00 - 本年支出 365.40 (= -65.40)",
                ),
                Break(
                    "SUM 合计/本年支出 col",
                    "1,848.65",
                    "1857.65",
                    "合计 本年支出 1,848.65 != 1,452.35 + 365.40 + 39.90 (= 1,857.65)",
                ),
            ],
        ),
        Err(
            ("其他资金", "年末结余"),
            "10.59",
            [
                Break(
                    "BALANCE 其他资金/年末结余",
                    "10.59",
                    "10.95",
                    "其他资金 年末结余 10.59 != 上年结余 8.75 + 本年结余 2.20 (= 10.95)",
                ),
                Break(
                    "SUM 合计/年末结余 col",
                    "138.00",
                    "137.64",
                    "合计 年末结余 138.00 != 63.45 + 63.60 + 10.59 (= 137.64)",
                ),
            ],
        ),
        Err(
            ("合计", "上年结余"),
            "173.95",
            [
                Break(
                    "SUM 合计/上年结余 col",
                    "173.95",
                    "163.95",
                    "合计 上年结余 173.95 != 35.20 + 120.00 + 8.75 (= 163.95)",
                ),
                Break(
                    "BALANCE 合计/年末结余",
                    "138.00",
                    "148.00",
                    "合计 年末结余 138.00 != 上年结余 173.95 + 本年结余 (-25.95) (= 148.00)",
                ),
            ],
        ),
        Err(
            ("一般公共预算资金", "本年收入"),
            "1,408.60",
            [
                Break(
                    "BALANCE 一般公共预算资金/本年结余",
                    "28.25",
                    "-43.75",
                    "一般公共预算资金 本年结余 28.25 != 本年收入 1,408.60 - 本年支出 1,452.35 (= -43.75)",
                ),
                Break(
                    "SUM 合计/本年收入 col",
                    "1,822.70",
                    "1750.70",
                    "合计 本年收入 1,822.70 != 1,408.60 + 300.00 + 42.10 (= 1,750.70)",
                ),
            ],
        ),
    ]
    return Shape("income_balance", t, rels, errs)


# --------------------------------------------------------------------------------------------------------
# 5. shares — 金额 and 占比, 合计 100.00
# --------------------------------------------------------------------------------------------------------

SH_ITEMS = ["设备购置费", "基建工程款", "培训及会议费", "信息化运维费"]
SH_AMT, SH_PCT = "金额(万元)", "占比(%)"


def shares() -> Shape:
    t = Table(
        before=["2024年度项目支出构成情况表（单位：万元）"],
        header=["项目", SH_AMT, SH_PCT],
        rows=[
            ["设备购置费", "1,245.60", "44.52"],
            ["基建工程款", "836.25", "29.89"],
            ["培训及会议费", "412.80", "14.76"],
            ["信息化运维费", "302.95", "10.83"],
            ["合计", "2,797.60", "100.00"],
        ],
    )
    rels = col_sum("SUM", "合计", SH_ITEMS, [SH_AMT, SH_PCT])
    rels += [
        Rel(f"RATIO {r}", "RATIO", (r, SH_PCT), "rate", [(r, SH_AMT)], den=("合计", SH_AMT))
        for r in [*SH_ITEMS, "合计"]
    ]
    errs = [
        Err(
            ("设备购置费", SH_PCT),
            "46.52",
            [
                Break(
                    "RATIO 设备购置费", "46.52", "44.52", "设备购置费 占比 46.52 != 1,245.60 / 2,797.60 × 100 (= 44.52)"
                ),
                Break(
                    f"SUM 合计/{SH_PCT} col",
                    "100.00",
                    "102.00",
                    "合计 占比 100.00 != 46.52 + 29.89 + 14.76 + 10.83 (= 102.00)",
                ),
            ],
        ),
        Err(
            ("培训及会议费", SH_AMT),
            "421.80",
            [
                Break(
                    f"SUM 合计/{SH_AMT} col",
                    "2,797.60",
                    "2806.60",
                    "合计 金额 2,797.60 != 1,245.60 + 836.25 + 421.80 + 302.95 (= 2,806.60)",
                ),
                Break(
                    "RATIO 培训及会议费",
                    "14.76",
                    "15.08",
                    "培训及会议费 占比 14.76 != 421.80 / 2,797.60 × 100 (= 15.08)",
                ),
            ],
        ),
        Err(
            ("信息化运维费", SH_PCT),
            "10.38",
            [
                Break(
                    "RATIO 信息化运维费",
                    "10.38",
                    "10.83",
                    "信息化运维费 占比 10.38 != 302.95 / 2,797.60 × 100 (= 10.83)",
                ),
                Break(
                    f"SUM 合计/{SH_PCT} col",
                    "100.00",
                    "99.55",
                    "合计 占比 100.00 != 44.52 + 29.89 + 14.76 + 10.38 (= 99.55)",
                ),
            ],
        ),
    ]
    return Shape("shares", t, rels, errs)


# --------------------------------------------------------------------------------------------------------
# 6. indicator_targets — 绩效指标: targets like ≥95%, dates; only 得分 ≤ 分值
# --------------------------------------------------------------------------------------------------------


def indicator_targets() -> Shape:
    t = Table(
        before=["2024年度基层医疗服务能力提升项目绩效指标完成情况表（分值、得分单位：分）"],
        header=["一级指标", "二级指标", "三级指标", "指标值", "实际完成值", "分值", "得分"],
        label_col=2,
        vmerge_cols=(0, 1),
        rows=[
            ["产出指标", "数量指标", "培训基层医务人员人数", "≥300人", "326人", "10", "10"],
            ["产出指标", "数量指标", "家庭医生签约覆盖率", "≥45%", "47.2%", "10", "10"],
            ["产出指标", "质量指标", "设备验收合格率", "100%", "100%", "10", "10"],
            ["产出指标", "时效指标", "资金拨付及时性", "2024年12月底前", "2024年11月完成", "10", "10"],
            ["产出指标", "成本指标", "单台设备平均采购成本", "≤85万元", "81.6万元", "10", "9"],
            ["效益指标", "社会效益指标", "基层诊疗量占比", "≥60%", "58.4%", "20", "16"],
            ["效益指标", "可持续影响指标", "设备使用年限", "≥8年", "8年", "15", "15"],
            ["满意度指标", "服务对象满意度指标", "患者满意度", "≥95%", "96.3%", "15", "15"],
        ],
    )
    rels = [
        Rel(f"SCORE_RANGE {t.label(row)}", "SCORE_RANGE", (t.label(row), "得分"), "le", [(t.label(row), "分值")])
        for row in t.rows
    ]
    errs = [
        Err(
            ("基层诊疗量占比", "得分"),
            "22",
            [
                Break("SCORE_RANGE 基层诊疗量占比", "22", "20", "基层诊疗量占比 得分 22 > 分值 20"),
            ],
        ),
        Err(
            ("单台设备平均采购成本", "得分"),
            "12",
            [
                Break("SCORE_RANGE 单台设备平均采购成本", "12", "10", "单台设备平均采购成本 得分 12 > 分值 10"),
            ],
        ),
    ]
    return Shape("indicator_targets", t, rels, errs)


# --------------------------------------------------------------------------------------------------------
# 7. hospital_income — a two-level header: 其中: spans 门诊收入 and 住院收入 (realdev a006, a023)
# --------------------------------------------------------------------------------------------------------

HI_ROWS = ["东城区", "西城区", "南湖区", "北山县"]
HI_COLS = ["医疗收入", "门诊收入", "住院收入", "药品收入"]


def hospital_income() -> Shape:
    t = Table(
        before=["表3 2024年全市公立医院医疗收入情况"],
        header=["地区(万元)", *HI_COLS],
        groups=[("地区(万元)", 1), ("医疗收入", 1), ("其中:", 2), ("药品收入", 1)],
        packed=[["地区", "医疗收入", "其中:", "药品收入"], ["(万元)", "门诊收入", "住院收入"]],
        rows=[
            ["合计", "11,414.22", "4,249.11", "7,165.11", "2,586.45"],
            ["东城区", "3,561.15", "1,250.40", "2,310.75", "812.30"],
            ["西城区", "2,625.35", "980.25", "1,645.10", "605.44"],
            ["南湖区", "3,491.57", "1,402.66", "2,088.91", "778.09"],
            ["北山县", "1,736.15", "615.80", "1,120.35", "390.62"],
        ],
    )
    rels = [
        Rel(f"SUM {r}/医疗收入 row", "SUM", (r, "医疗收入"), "sum", [(r, "门诊收入"), (r, "住院收入")])
        for r in ["合计", *HI_ROWS]
    ]
    rels += col_sum("SUM", "合计", HI_ROWS, HI_COLS)
    errs = [
        Err(
            ("西城区", "门诊收入"),
            "990.25",
            [
                Break(
                    "SUM 西城区/医疗收入 row",
                    "2,625.35",
                    "2635.35",
                    "西城区 医疗收入 2,625.35 != 门诊 990.25 + 住院 1,645.10 (= 2,635.35)",
                ),
                Break(
                    "SUM 合计/门诊收入 col",
                    "4,249.11",
                    "4259.11",
                    "合计 门诊收入 4,249.11 != 1,250.40 + 990.25 + 1,402.66 + 615.80 (= 4,259.11)",
                ),
            ],
        ),
        Err(
            ("合计", "药品收入"),
            "2,568.45",
            [
                Break(
                    "SUM 合计/药品收入 col",
                    "2,568.45",
                    "2586.45",
                    "合计 药品收入 2,568.45 != 812.30 + 605.44 + 778.09 + 390.62 (= 2,586.45)",
                ),
            ],
        ),
        Err(
            ("南湖区", "医疗收入"),
            "3,419.57",
            [
                Break(
                    "SUM 南湖区/医疗收入 row",
                    "3,419.57",
                    "3491.57",
                    "南湖区 医疗收入 3,419.57 != 门诊 1,402.66 + 住院 2,088.91 (= 3,491.57)",
                ),
                Break(
                    "SUM 合计/医疗收入 col",
                    "11,414.22",
                    "11342.22",
                    "合计 医疗收入 11,414.22 != 3,561.15 + 2,625.35 + 3,419.57 + 1,736.15 (= 11,342.22)",
                ),
            ],
        ),
    ]
    return Shape("hospital_income", t, rels, errs)


SHAPES = [allocation, sangong, budget_exec, income_balance, shares, indicator_targets, hospital_income]

# Findings a planted change also makes true beyond the arithmetic relation it breaks, checked by hand:
# raising 基层诊疗量占比's 得分 to 22 gives full marks (22 ≥ 20) to an indicator that missed its target
# (58.4% < ≥60%), which an auditor flags as well (TARGET, a warning).
ALSO_FLAGGED: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {
    ("indicator_targets", "err1"): [
        ("TARGET", "warning", "58.4%", "基层诊疗量占比 实际58.4% < 指标值≥60%，得分22 ≥ 分值20（满分）")
    ],
}


# --------------------------------------------------------------------------------------------------------
# Checking the planted arithmetic
# --------------------------------------------------------------------------------------------------------


def failing(shape: Shape, t: Table) -> dict[str, tuple[str, Decimal]]:
    out = {}
    for rel in shape.rels:
        holds, stated, _, pt = rel.evaluate(t)
        if not holds:
            out[rel.rid] = (stated, pt)
    return out


def check_shape(shape: Shape) -> list[Table]:
    """Assert clean = all relations hold and each err = exactly its listed breaks; return the err tables."""
    rids = [r.rid for r in shape.rels]
    assert len(rids) == len(set(rids)), f"{shape.name}: duplicate relation ids"
    bad = failing(shape, shape.table)
    assert not bad, f"{shape.name} clean breaks {bad}"
    tables = []
    for k, err in enumerate(shape.errs, 1):
        t = shape.table.with_cell(err.ref, err.new)
        got = failing(shape, t)
        want = {b.rid for b in err.breaks}
        assert set(got) == want, f"{shape.name} err{k}: breaks {sorted(got)}, listed {sorted(want)}"
        assert 1 <= len(want) <= 2, f"{shape.name} err{k}: {len(want)} relations"
        for b in err.breaks:
            stated, pt = got[b.rid]
            assert stated == b.stated, f"{shape.name} err{k} {b.rid}: stated {stated!r} != listed {b.stated!r}"
            q = Decimal(1).scaleb(-decimals_of(b.correct))
            assert pt.quantize(q, ROUND_HALF_UP) == Decimal(b.correct), (
                f"{shape.name} err{k} {b.rid}: computed {pt} != hand {b.correct}"
            )
            assert b.stated in b.why, (b.stated, b.why)
        tables.append(t)
    for t in [shape.table, *tables]:
        for alt in shape.alts:
            main = next(r for r in shape.rels if r.rid == alt.rid)
            assert alt.evaluate(t)[0] == main.evaluate(t)[0], f"{shape.name}: {alt.rid} depends on the reading"
    return tables


# --------------------------------------------------------------------------------------------------------
# Text layouts
# --------------------------------------------------------------------------------------------------------


def all_rows(t: Table) -> list[list[str]]:
    return [t.header, *t.rows]


def pipe_lead(t: Table) -> str:
    n = len(t.header)
    lines = ["| " + " | ".join(t.header) + " |", "|" + "---|" * n]
    lines += ["| " + " | ".join(r) + " |" for r in t.rows]
    return "\n".join(lines)


def pipe_trail_row(row: list[str]) -> str:
    """`a | b |` per cell; an empty cell becomes a line break, the row going on with `| ` on the next line."""
    out = ""
    for j, c in enumerate(row):
        if c:
            out += ("" if out == "" or out.endswith("\n") else " ") + c + " |"
        else:
            out += "|" if j == 0 else "\n|"
    return out


def pipe_trail(t: Table) -> str:
    if t.packed:
        # a merged header as converters leave it: labels packed left, the lost cells as bars at the end
        head = [" | ".join(r) + " |" + " |" * (len(t.header) - len(r)) for r in t.packed]
        return "\n".join([*head, *(pipe_trail_row(r) for r in t.rows)])
    return "\n".join(pipe_trail_row(r) for r in all_rows(t))


def cells_bar(t: Table) -> str:
    return "\n".join(f"{c} |" if c else "|" for r in all_rows(t) for c in r)


def cells_alt(t: Table) -> str:
    # one cell per line, a line holding a bar alone after each cell; an empty cell is a bar alone
    return "\n".join(f"{c}\n|" if c else "|" for r in all_rows(t) for c in r)


def cells_blank(t: Table) -> str:
    return "\n\n".join(c for r in all_rows(t) for c in r)


def oneline(t: Table) -> str:
    # as a spreadsheet dump gives it: an empty cell leaves nothing behind
    return " ".join(c for r in all_rows(t) for c in r if c)


def tab(t: Table) -> str:
    return "\n".join("\t".join(r) for r in all_rows(t))


def spaces(t: Table) -> str:
    # one row per line, cells separated by a space, an empty cell written as — (as statistics pages give it)
    return "\n".join(" ".join(c or "—" for c in r) for r in all_rows(t))


TEXT_LAYOUTS = {
    "pipe_lead": (pipe_lead, "md"),
    "pipe_trail": (pipe_trail, "txt"),
    "cells_bar": (cells_bar, "txt"),
    "cells_alt": (cells_alt, "txt"),
    "cells_blank": (cells_blank, "txt"),
    "oneline": (oneline, "txt"),
    "tab": (tab, "txt"),
    "spaces": (spaces, "txt"),
}


def document_text(t: Table, body: str) -> str:
    parts = ["\n".join(t.before), body]
    if t.after:
        parts.append(t.after)
    return "\n\n".join(parts) + "\n"


def read_back(layout: str, t: Table, text: str) -> list[list[str]] | list[str]:
    """Invert a text layout (the table block between the known prose) to check the renderer."""
    head = "\n".join(t.before) + "\n\n"
    tail = ("\n\n" + t.after if t.after else "") + "\n"
    assert text.startswith(head) and text.endswith(tail)
    block = text[len(head) : len(text) - len(tail)]
    if layout == "pipe_lead":
        lines = block.split("\n")
        assert set(lines[1]) == {"|", "-"}
        return [[c.strip() for c in ln.strip()[1:-1].split("|")] for ln in [lines[0], *lines[2:]]]
    if layout == "pipe_trail":
        rows: list[str] = []
        lines = block.split("\n")
        if t.packed:
            head = [[c.strip() for c in ln.rstrip("|").split("|")] for ln in lines[: len(t.packed)]]
            assert [[c for c in r if c] for r in head] == t.packed, head
            lines = lines[len(t.packed) :]
        for ln in lines:
            if ln.startswith("|") and rows and rows[-1].endswith("|"):
                rows[-1] += " " + ln  # continuation of a row broken at an empty cell
            else:
                rows.append(ln)
        return [[c.strip() for c in ("| " + r if r.startswith("|") else r).rstrip("|").split("|")] for r in rows]
    if layout == "cells_bar":
        return ["" if ln == "|" else ln[:-2] for ln in block.split("\n")]
    if layout == "cells_alt":
        lines = block.split("\n")
        out, k = [], 0
        while k < len(lines):
            if lines[k] == "|":
                out.append("")
                k += 1
            else:
                assert lines[k + 1] == "|", lines[k : k + 2]
                out.append(lines[k])
                k += 2
        return out
    if layout == "cells_blank":
        return block.split("\n\n")
    if layout == "oneline":
        assert "\n" not in block
        return block.split(" ")
    if layout == "tab":
        return [ln.split("\t") for ln in block.split("\n")]
    if layout == "spaces":
        return [ln.split(" ") for ln in block.split("\n")]
    raise ValueError(layout)


def check_text(layout: str, t: Table, text: str) -> None:
    got = read_back(layout, t, text)
    if layout == "pipe_trail":
        # a leading empty cell reads back as a leading "" (the "| " we put back); the rest must match
        got = [r if len(r) == len(t.header) else r[1:] for r in got]
    want: list = t.rows if layout == "pipe_trail" and t.packed else all_rows(t)
    if layout in ("cells_bar", "cells_alt", "cells_blank"):
        want = [c for r in want for c in r]
    if layout == "oneline":
        want = [c for r in want for c in r if c]
    if layout == "spaces":
        want = [[c or "—" for c in r] for r in want]
    assert got == want, f"{layout}: read back\n{got}\n!=\n{want}"


# --------------------------------------------------------------------------------------------------------
# Grid with merged cells (docx, pdf)
# --------------------------------------------------------------------------------------------------------


@dataclass
class Box:
    r0: int
    r1: int  # inclusive
    c0: int
    c1: int  # inclusive
    text: str
    header: bool


def boxes(t: Table) -> tuple[list[Box], int]:
    """The cells of the table as drawn, merged cells as one box; returns (boxes, header row count)."""
    out: list[Box] = []
    if t.groups:
        j = 0
        for label, span in t.groups:
            if span == 1:
                out.append(Box(0, 1, j, j, label, True))
            else:
                out.append(Box(0, 0, j, j + span - 1, label, True))
                out += [Box(1, 1, j + k, j + k, t.header[j + k], True) for k in range(span)]
            j += span
        nh = 2
    else:
        out += [Box(0, 0, j, j, h, True) for j, h in enumerate(t.header)]
        nh = 1
    n = len(t.header)
    covered: set[tuple[int, int]] = set()
    for i, row in enumerate(t.rows):
        r = nh + i
        for j in range(n):
            if (r, j) in covered:
                continue
            r1, c1 = r, j
            if j in t.vmerge_cols:
                while (
                    r1 - nh + 1 < len(t.rows)
                    and t.rows[r1 - nh + 1][j] == row[j]
                    and all(t.rows[r1 - nh + 1][k] == row[k] for k in range(j))
                ):
                    r1 += 1
            if t.hmerge_empty and j == 0 and row[t.label_col] == "":
                c1 = t.label_col
            for rr in range(r, r1 + 1):
                for cc in range(j, c1 + 1):
                    covered.add((rr, cc))
            out.append(Box(r, r1, j, c1, row[j], False))
    return out, nh


def normalize_zip(path: Path) -> None:
    """Rewrite a zip (docx) with fixed timestamps and order, so the output is byte-for-byte reproducible."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def write_docx(t: Table, path: Path) -> None:
    d = docx.Document()
    d.core_properties.created = d.core_properties.modified = datetime(2024, 1, 1)
    d.core_properties.last_modified_by = d.core_properties.author = "make_tables.py"
    d.core_properties.revision = 1
    for line in t.before:
        d.add_paragraph(line)
    bx, nh = boxes(t)
    table = d.add_table(rows=nh + len(t.rows), cols=len(t.header))
    table.style = "Table Grid"
    for b in bx:
        cell = table.cell(b.r0, b.c0)
        if (b.r1, b.c1) != (b.r0, b.c0):
            cell = cell.merge(table.cell(b.r1, b.c1))
        cell.text = b.text
        p = cell.paragraphs[0]
        if b.header:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in p.runs:
                run.bold = True
        elif NUMERIC.fullmatch(b.text):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for run in p.runs:
            run.font.size = Pt(10)
    if t.after:
        d.add_paragraph(t.after)
    d.save(str(path))
    normalize_zip(path)


def check_docx(t: Table, path: Path) -> None:
    d = docx.Document(str(path))
    assert len(d.tables) == 1
    grid = [[c.text for c in row.cells] for row in d.tables[0].rows]
    bx, nh = boxes(t)
    assert len(grid) == nh + len(t.rows)
    for b in bx:  # every cell of a merged box reads back as the box's text
        for r in range(b.r0, b.r1 + 1):
            for c in range(b.c0, b.c1 + 1):
                assert grid[r][c] == b.text, (path.name, r, c, grid[r][c], b.text)
    paras = [p.text for p in d.paragraphs]
    assert paras == [*t.before, *([t.after] if t.after else [])], paras


# The built-in CJK font for all text, digits included. (Base-14 Helvetica digits would look better, but
# page.find_tables() then splits "78.75" into "7875" + "." by glyph height; china-s extracts cleanly.)
FONT = "china-s"
PAGE_W, PAGE_H, MARGIN = 595, 842, 50
NUMERIC = re.compile(r"-?[\d,]+(\.\d+)?")


def text_len(text: str, fs: float) -> float:
    return pymupdf.get_text_length(text, fontname=FONT, fontsize=fs)


def draw_text(page: pymupdf.Page, x: float, y: float, text: str, fs: float) -> None:
    page.insert_text((x, y), text, fontname=FONT, fontsize=fs)


def write_pdf(t: Table, path: Path, ruled: bool = True) -> None:
    bx, nh = boxes(t)
    n = len(t.header)
    fs = 9.0
    natural = [0.0] * n
    for b in bx:
        if b.c0 == b.c1:
            natural[b.c0] = max(natural[b.c0], text_len(b.text, fs) + 10)
    avail = PAGE_W - 2 * MARGIN
    if sum(natural) > avail:  # shrink the font until the widest row fits
        fs = fs * (avail - 10 * n) / (sum(natural) - 10 * n)
        natural = [(w - 10) * fs / 9.0 + 10 for w in natural]
    widths = [w + (avail - sum(natural)) / n for w in natural]
    xs = [MARGIN]
    for w in widths:
        xs.append(xs[-1] + w)
    rh = 20
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_W, height=PAGE_H)
    y = 70
    for line in t.before:
        draw_text(page, MARGIN, y, line, 10.5)
        y += 20
    top = y
    shape = page.new_shape()
    for b in bx:
        rect = pymupdf.Rect(xs[b.c0], top + b.r0 * rh, xs[b.c1 + 1], top + (b.r1 + 1) * rh)
        if ruled:
            shape.draw_rect(rect)
        if not b.text:
            continue
        tw = text_len(b.text, fs)
        if b.header or b.text == "—":
            x = (rect.x0 + rect.x1 - tw) / 2
        elif NUMERIC.fullmatch(b.text):
            x = rect.x1 - 5 - tw
        else:
            x = rect.x0 + 5
        draw_text(page, x, (rect.y0 + rect.y1) / 2 + fs * 0.38, b.text, fs)
    shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    y = top + (nh + len(t.rows)) * rh + 24
    if t.after:
        draw_text(page, MARGIN, y, t.after, 10.5)
    doc.set_metadata({"producer": "make_tables.py", "creator": "make_tables.py", "creationDate": "", "modDate": ""})
    doc.save(str(path), garbage=3, deflate=True, no_new_id=True)


def check_pdf(t: Table, path: Path) -> None:
    doc = pymupdf.open(str(path))
    assert doc.page_count == 1
    page = doc[0]
    found = page.find_tables()
    assert len(found.tables) == 1, f"{path.name}: {len(found.tables)} tables"
    grid = found.tables[0].extract()
    bx, nh = boxes(t)
    assert len(grid) == nh + len(t.rows), f"{path.name}: {len(grid)} rows"
    for b in bx:  # the top-left cell of each box holds its text
        got = (grid[b.r0][b.c0] or "").replace("\n", "")
        assert got == b.text, (path.name, b, got)
    text = page.get_text().replace("\n", "")
    for b in bx:
        assert b.text in text, (path.name, b.text)
    for line in [*t.before, t.after]:
        assert line in text, (path.name, line)


# --------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------


def check_pdf_unruled(t: Table, path: Path) -> None:
    """No rule is drawn; the words still line up in columns, which PyMuPDF's text strategy finds."""
    doc = pymupdf.open(str(path))
    page = doc[0]
    assert not page.get_drawings(), path.name
    found = page.find_tables(vertical_strategy="text", horizontal_strategy="text", min_words_vertical=2)
    assert found.tables, f"{path.name}: no table found from the words"
    text = page.get_text().replace("\n", "")
    for line in [*t.before, t.after]:
        assert line in text, (path.name, line)


LAYOUT_ORDER = [*TEXT_LAYOUTS, "docx", "pdf", "pdf_unruled"]


def write_shape(shape: Shape, err_tables: list[Table]) -> tuple[int, int]:
    folder = OUT / shape.name
    folder.mkdir(parents=True)
    variants = [("clean", shape.table, None)] + [
        (f"err{k}", t, e) for k, (t, e) in enumerate(zip(err_tables, shape.errs, strict=True), 1)
    ]
    rows = []
    nfiles = 0
    for layout in LAYOUT_ORDER:
        clean_text = None
        for variant, t, err in variants:
            if layout in TEXT_LAYOUTS:
                render, ext = TEXT_LAYOUTS[layout]
                path = folder / f"{layout}_{variant}.{ext}"
                text = document_text(t, render(t))
                path.write_text(text, encoding="utf-8")
                check_text(layout, t, text)
                if err is None:
                    clean_text = text
                else:
                    assert text != clean_text
                    for b in err.breaks:
                        assert b.stated in text, (path.name, b.stated)
            elif layout == "docx":
                path = folder / f"docx_{variant}.docx"
                write_docx(t, path)
                check_docx(t, path)
            elif layout == "pdf":
                path = folder / f"pdf_{variant}.pdf"
                write_pdf(t, path)
                check_pdf(t, path)
            else:
                path = folder / f"pdf_unruled_{variant}.pdf"
                write_pdf(t, path, ruled=False)
                check_pdf_unruled(t, path)
            nfiles += 1
            if err is not None:
                rows += [
                    (path.name, shape.rels[[r.rid for r in shape.rels].index(b.rid)].check, "error", b.stated, b.why)
                    for b in err.breaks
                ]
                rows += [(path.name, *extra) for extra in ALSO_FLAGGED.get((shape.name, variant), [])]
    with open(folder / "expected.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(EXPECTED_COLUMNS)
        w.writerows(rows)
    return nfiles, len(rows)


README = """# fixtures/tables

Seven table shapes from Chinese performance-evaluation reports, each rendered in eleven layouts/formats, clean
and with planted errors. Generated by `python scripts/make_tables.py` (deterministic; it deletes and rewrites
this folder). Names and numbers are invented.

## Shapes (one folder each)

| shape | content | relations |
| --- | --- | --- |
| allocation | 分配表, 合计 at the top, 市级小计 (2 hospitals) and 区(县、市)小计 (4 districts, one empty 已提前下达 cell), prose after | 分配金额 = 已提前下达 + 本次下达 on every row; 合计 = 市级小计 + 区县小计; each 小计 = its rows; prose 本次下达 = table 合计 |
| sangong | 三公经费, 2023/2024 决算数, 增减额, 增减率(%), 合计 at the top, a 其中 block, prose after | 合计 = 出国 + 公务用车购置及运行维护费 + 接待 (the 其中 rows not added again) in 2023, 2024, 增减额; 公务用车购置及运行维护费 = 购置费 + 运行维护费; 增减额 = 2024 − 2023; 增减率 = (2024 − 2023) ÷ 2023 × 100; a 2023 value of 0 has 增减率 `—` (not checked); prose figures = table |
| budget_exec | 序号, 年初/调整预算数, 决算数, 执行率(%); 合计 at the bottom; a year in the title | 合计 = Σ rows in each money column (not 序号); 执行率 = 决算数 ÷ 调整预算数 × 100 on every row |
| income_balance | 上年结余, 本年收入, 本年支出, 本年结余, 年末结余; 3 funds + 合计 | 本年结余 = 收入 − 支出; 年末结余 = 上年结余 + 本年结余; 合计 foots every column |
| shares | 金额(万元), 占比(%); 合计 100.00 | 占比 = 金额 ÷ 合计金额 × 100; 合计 foots both columns |
| indicator_targets | 绩效指标 table, 指标值 like `≥95%`, `2024年12月底前` | only 得分 ≤ 分值; targets and dates are not numbers to add |
| hospital_income | two-level header, 其中: over 门诊收入 and 住院收入, unit (万元) under 地区; 合计 at the top | 医疗收入 = 门诊 + 住院 on every row; 合计 foots every column; 药品收入 is no part |

## Layouts (file prefix)

- `pipe_lead.md` — markdown pipe rows with leading and trailing `|` and a `|---|` line.
- `pipe_trail.txt` — `a | b | c |` rows without the leading bar; an empty cell breaks the row, which goes on
  with `| ` on the next line (allocation's 龙湾县, budget_exec's 合计 whose 支出项目 cell is empty).
  hospital_income's two-level header is packed as converters leave it: `地区 | 医疗收入 | 其中: | 药品收入 | |`
  over `(万元) | 门诊收入 | 住院收入 | | |`, the merged cells' places lost.
- `cells_bar.txt` — one cell per line ending with ` |`; an empty cell is a line `|`.
- `cells_alt.txt` — one cell per line, each followed by a line holding a bar alone; an empty cell is a bar alone.
- `cells_blank.txt` — one cell per line, a blank line between cells, no bars (an empty cell gives two more
  blank lines).
- `oneline.txt` — the whole table on one line, cells separated by single spaces; an empty cell leaves
  nothing (as spreadsheet dumps do), so e.g. 龙湾县 has two numbers for three columns.
- `tab.txt` — tab-separated rows.
- `spaces.txt` — one row per line, cells separated by a space, an empty cell written as —.
- `docx` — a Word table (Table Grid); sangong and hospital_income have a two-level header with merged cells, indicator_targets
  merges equal 一级/二级指标 cells vertically, budget_exec's 合计 spans 序号 + 支出项目.
- `pdf` — a ruled table drawn with PyMuPDF (same merges); `page.find_tables()` finds it.
- `pdf_unruled` — the same table without a rule: the columns and rows come from the gaps between words.

The prose (title sentence with the unit; for allocation and sangong a sentence after the table restating a
table figure) is the same in every layout.

## Variants and expected.csv

`<layout>_clean` satisfies every relation. `<layout>_errK` is clean with exactly one cell (or the prose
figure) changed, the same change in every layout. `expected.csv` (`file,check,severity,stated,why`) has one
row per relation the change breaks: when a part cell is changed, the row is the total's relation and
`stated` is the total as written. Clean files have no row. Checks: SUM, CHANGE, EXEC_RATE, RATIO, BALANCE,
SCORE_RANGE, DUPLICATE; all severity `error`.

Relations are read exactly as in the table above. Two readings differ on some err files and are NOT
expected: 合计 checked against the leaf rows instead of the two 小计 (allocation err2, err3 would add a
row), and 年末结余 computed as 上年结余 + 收入 − 支出 instead of + 本年结余 (income_balance err1, err4). 增减率
read as stated 增减额 ÷ 2023 × 100 gives the same verdicts as (2024 − 2023) ÷ 2023 × 100 (asserted).

expected.csv is hand-checked arithmetic: the script asserts with interval arithmetic (a number with d
decimals = ±0.5·10^-d) that clean breaks nothing and each err file breaks exactly its listed relations, with
the listed stated and correct values. Do not edit it to match the tool; a mismatch is a finding about the
tool (or a bug to fix in make_tables.py, with the arithmetic rechecked).
"""


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    total_files = total_rows = 0
    for make in SHAPES:
        shape = make()
        err_tables = check_shape(shape)
        nfiles, nrows = write_shape(shape, err_tables)
        total_files += nfiles
        total_rows += nrows
        print(
            f"{shape.name}: {len(LAYOUT_ORDER)} layouts x {1 + len(shape.errs)} variants = {nfiles} files, {nrows} expected rows"
        )
    (OUT / "README.md").write_text(README, encoding="utf-8")
    print(f"total: {total_files} files, {total_rows} expected rows -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
