"""Table readers: footing, cross-footing, changes, rates, shares, balances and the text restating a table."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = (
    "tables.footing",
    "tables.crossfoot",
    "tables.rowsums",
    "tables.change",
    "tables.rates",
    "tables.balance",
    "tables.restated",
    "tables.formulas",
)


def sums(text: str, reader: str) -> list[tuple]:
    return [(q(s.total), [q(p) for p in s.parts], s.exhaustive) for s in facts(text, reader).sums]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # a 合计 row at the top totals the 小计 rows; each 小计 totals the rows under it
        (
            "单位：万元\n地区\t金额\n合计\t150\n甲小计\t100\n甲一\t60\n甲二\t40\n乙小计\t50\n乙一\t20\n乙二\t30\n",
            [
                ("150万元", ["100万元", "50万元"], True),
                ("100万元", ["60万元", "40万元"], True),
                ("50万元", ["20万元", "30万元"], True),
            ],
        ),
        # a 合计 row at the bottom totals the rows above it; a serial-number column is no data
        (
            "序号\t项目\t金额\n1\t设备\t12.5\n2\t培训\t7.5\n3\t运维\t5.0\n\t合计\t25.0\n",
            [("25.0", ["12.5", "7.5", "5.0"], True)],
        ),
        # 其中 rows up to the one that completes their parent; the row after them is a sibling again
        (
            "项目\t2024年\n合计\t100\n公务用车费\t60\n其中：购置费\t20\n运维费\t40\n接待费\t40\n",
            [("60", ["20", "40"], True), ("100", ["60", "40"], True)],
        ),
        # a 合计 row of averages adds up in no column: no footing
        ("院均收入情况\n地区\t收入\t支出\n合计\t50\t40\n甲\t80\t60\n乙\t30\t25\n", []),
    ],
)
def test_column_footing(text: str, want: list) -> None:
    assert sums(text, "tables.footing") == want


def test_cross_footing_by_header_and_by_the_rows() -> None:
    # "其中" over the part columns declares the sum; the numbers settle which columns it covers.
    text = "地区\t总收入\t其中：医疗收入\t其他收入\t床位数\n甲\t100\t70\t30\t12\n乙\t50\t45\t5\t8\n"
    assert sums(text, "tables.crossfoot") == [("100", ["70", "30"], True), ("50", ["45", "5"], True)]


def test_rows_that_add_up_in_every_year_column() -> None:
    text = (
        "指标\t2022年\t2021年\t2020年\n"
        "参保人数(万人)\t150.5\t148\t140.2\n"
        "职工参保人数(万人)\t60.5\t58\t55\n"
        "居民参保人数(万人)\t90\t90\t85.2\n"
    )
    assert sums(text, "tables.rowsums") == [
        ("150.5万人", ["60.5万人", "90万人"], True),
        ("148万人", ["58万人", "90万人"], True),
        ("140.2万人", ["55万人", "85.2万人"], True),
    ]


def test_change_and_change_rate_columns() -> None:
    text = "项目\t2023年\t2024年\t增减额\t增减率(%)\n接待费\t20.00\t15.00\t-5.00\t-25.00\n车辆费\t0\t3.00\t3.00\t—\n"
    got = facts(text, "tables.change").changes
    assert [(q(c.before), q(c.after), q(c.change), c.relative) for c in got] == [
        ("20.00", "15.00", "-5.00", False),
        ("0", "3.00", "3.00", False),
        ("20.00", "15.00", "-25.00%", True),
    ]


def test_change_rows_under_two_years() -> None:
    text = "项目\t公务接待费\t车辆运行费\n2023年\t20.00\t30.00\n2024年\t15.00\t33.00\n增减额\t-5.00\t3.00\n"
    got = facts(text, "tables.change").changes
    assert [(q(c.before), q(c.after), q(c.change)) for c in got] == [
        ("20.00", "15.00", "-5.00"),
        ("30.00", "33.00", "3.00"),
    ]


def test_rate_columns_name_their_operands() -> None:
    text = "项目\t年初预算数\t调整预算数\t决算数\t执行率(%)\n设备\t100\t80\t76\t95.00\n"
    got = facts(text, "tables.rates").fund_flows
    # 76 ÷ 80 = 95%: the 调整预算数 column is the base the rates are written against.
    assert [(q(f.budget), q(f.spent), q(f.rate)) for f in got] == [("80", "76", "95.00%")]
    text = "项目\t全年预算数(A)\t全年执行数(B)\t执行率(B/A)\n资金总额\t30\t27\t90%\n"
    got = facts(text, "tables.rates").fund_flows
    assert [(q(f.budget), q(f.spent), q(f.rate)) for f in got] == [("30", "27", "90%")]


def test_share_columns_against_the_total_row() -> None:
    text = "项目\t金额(万元)\t占比(%)\n甲\t30\t60.00\n乙\t20\t40.00\n合计\t50\t100.00\n"
    got = facts(text, "tables.rates").ratios
    assert [(q(r.rate), [q(x) for x in r.numerator], [q(x) for x in r.denominator]) for r in got] == [
        ("60.00%", ["30万元"], ["50万元"]),
        ("40.00%", ["20万元"], ["50万元"]),
        ("100.00%", ["50万元"], ["50万元"]),
    ]


def test_balance_columns_and_balances_rolled_year_to_year() -> None:
    text = "项目\t上年结余\t本年收入\t本年支出\t本年结余\t年末结余\n甲\t10\t100\t90\t10\t20\n"
    [f] = facts(text, "tables.balance").fund_flows
    assert (q(f.prior_balance), q(f.allocated), q(f.spent), q(f.balance), q(f.closing_balance)) == (
        "10",
        "100",
        "90",
        "10",
        "20",
    )
    text = "指标\t2021年\t2022年\n基金收入(万元)\t100\t120\n基金支出(万元)\t80\t90\n基金累计结余(万元)\t50\t80\n"
    [f] = facts(text, "tables.balance").fund_flows
    assert f.inferred and (q(f.prior_balance), q(f.allocated), q(f.spent), q(f.closing_balance)) == (
        "50万元",
        "120万元",
        "90万元",
        "80万元",
    )


def test_the_text_restating_a_table_cell() -> None:
    text = (
        "医疗机构数（个）\n\n机构\t2020年\t2021年\n医院\t34349\t35519\n诊所\t1200\t1300\n\n"
        "截至2021年底，医院3.6万个，诊所1300个。\n"
    )
    got = facts(text, "tables.restated").restatements
    assert [(r.label, q(r.first), q(r.second)) for r in got] == [
        ("“医院”", "3.6万个", "35519个"),
        ("“诊所”", "1300个", "1300个"),
    ]


def test_packed_pipe_header_spreads_its_group_label() -> None:
    """A pipe table loses its merged header cells: 其中: over two sub-labels is one cell, the labels after it
    slide left. The text names a sub-column by its own words and gets that column's cell."""
    text = (
        "各地区院均医疗收入\n地 区 | 医疗收入 | 其中: | 药品收入(万元) | |\n(万元) | 门诊收入 | 住院收入 | ||\n"
        "全国总计 | 12,434.59 | 5,006.22 | 7,428.37 | 1,685.27 |\n"
        "北京市 | 50,987.75 | 35,030.67 | 15,957.08 | 8,291.22 |\n"
        "天津市 | 31,176.85 | 17,139.40 | 14,037.45 | 3,840.50 |\n\n"
        "北京市门诊收入35,030.67万元，天津市住院收入14,037.45万元，天津市药品收入3,840.50万元。\n"
    )
    got = facts(text, "tables.restated").restatements
    assert [(r.label, q(r.first), q(r.second)) for r in got] == [
        ("“北京市”", "35,030.67万元", "35,030.67万元"),
        ("“天津市”", "14,037.45万元", "14,037.45万元"),
        ("“天津市”", "3,840.50万元", "3,840.50万元"),
    ]


def test_packed_pipe_header_without_the_label_header() -> None:
    """The label column's header cell was empty, so the packed header is one column short: it heads the
    numeric columns only."""
    text = (
        "院均总收入情况\n单位:万元 | |||||\n总收入 | 其中: | ||||\n"
        "医疗收入 | 财政补助收入 | 科教项目收入 | 其他收入 | ||\n"
        "合计 | 42,507.26 | 37,764.88 | 3,617.30 | 208.02 | 917.06 |\n"
        "部属 | 52,119.40 | 46,538.29 | 2,282.03 | 1,312.69 | 1,986.39 |\n"
        "省属 | 19,388.59 | 17,463.82 | 1,314.37 | 149.64 | 460.77 |\n\n"
        "部属财政补助收入2,282.03万元，省属总收入19,388.59万元。\n"
    )
    got = facts(text, "tables.restated").restatements
    assert [(r.label, q(r.first), q(r.second)) for r in got] == [
        ("“部属”", "2,282.03万元", "2,282.03万元"),
        ("“省属”", "19,388.59万元", "19,388.59万元"),
    ]


def test_columns_numbered_with_a_formula() -> None:
    """⑤=③×④ under the header: each row's ⑤ is ③ × ④, in 万元 from 元/人 × 人; C=A+B is a sum."""
    text = (
        "序号\t培训机构\t补助标准(元/人)\t合格人数\t补助资金(万元)\n①\t②\t③\t④\t⑤=③×④\n"
        "1\t甲校\t2600\t842\t218.92\n2\t乙校\t2600\t900\t243.00\n3\t丙校\t2600\t941\t244.66\n"
    )
    got = facts(text, "tables.formulas").products
    assert [(q(p.amount), [q(f) for f in p.factors], str(p.scale)) for p in got] == [
        ("218.92万元", ["2600元/人", "842人"], "0.0001"),
        ("243.00万元", ["2600元/人", "900人"], "0.0001"),
        ("244.66万元", ["2600元/人", "941人"], "0.0001"),
    ]
    text = "项目\t中央(A)\t省级(B)\t合计(C=A+B)\n甲\t10\t5\t15\n乙\t8\t4\t12\n"
    assert sums(text, "tables.formulas") == [("15", ["10", "5"], True), ("12", ["8", "4"], True)]


def test_a_formula_the_rows_do_not_bear_out_is_not_read() -> None:
    """Most rows must hold under one unit factor, else the columns are not what the formula names."""
    text = "项目\t人数\t标准\t金额\n①\t②\t③\t④=②×③\n甲\t10\t5\t71\n乙\t8\t4\t90\n丙\t3\t3\t7\n"
    assert facts(text, "tables.formulas").products == []
