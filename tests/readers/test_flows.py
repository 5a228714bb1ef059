"""Fund-flow readers: a fund's money for the year in prose passages and in 自评表 money rows."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("flows.prose", "flows.table", "flows.mentions")

FIELDS = (
    "allocated",
    "carryover",
    "available",
    "budget",
    "spent",
    "spent_current",
    "balance",
    "closing_balance",
    "rate",
)


def flows(text: str, reader: str, year: str = "") -> list[dict[str, str]]:
    return [
        {f: q(getattr(fl, f)) for f in FIELDS if getattr(fl, f) is not None}
        for fl in facts(text, reader, year=year).fund_flows
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # one sentence with the allocation, the carryover, the spending and the stated rate
        (
            "2023年，县财政下达该项目资金320万元，上年结转15.5万元，截至年底实际支出298.6万元，预算执行率88.99%。",
            [{"allocated": "320万元", "carryover": "15.5万元", "spent": "298.6万元", "rate": "88.99%"}],
        ),
        # the allocation in one section and the spending in the next are one fund
        (
            "（一）资金到位情况。省级下达补助资金80万元，已全部到位。\n（二）资金使用情况。全年支出72万元，结余8万元。",
            [{"allocated": "80万元", "spent": "72万元", "balance": "8万元"}],
        ),
        # numbered items with their own money are flows of their own
        (
            "1.设备购置项目安排资金50万元，已支付45万元，结余5万元。\n2.人员培训项目安排资金30万元，已支付30万元。",
            [
                {"allocated": "50万元", "spent": "45万元", "balance": "5万元"},
                {"allocated": "30万元", "spent": "30万元"},
            ],
        ),
        # this year's surplus and the year-end figure after it: a closing balance
        (
            "本年收入500万元，本年支出460万元，本年收支结余40万元，年末滚存结余125万元。",
            [{"allocated": "500万元", "spent": "460万元", "balance": "40万元", "closing_balance": "125万元"}],
        ),
        # counts are not money
        ("全县共有医疗机构120家，床位3000张。", []),
        # money paid on to other bodies (向各机构拨付) is no allocation of this fund
        (
            "全年实际到位资金2,692.16万元。\n县卫生健康局已向各基层医疗卫生机构拨付资金2,584.47万元。\n"
            "全年实际支出2,531.26万元，结余资金160.90万元。",
            [{"allocated": "2,692.16万元", "spent": "2,531.26万元", "balance": "160.90万元"}],
        ),
        # 收入总计 split into this year's income and the carryover: the income is the year's allocation
        (
            "收入总计2,070.77万元，其中本年收入1,986.42万元、年初结转和结余84.35万元。本年支出1,992.08万元。",
            [{"allocated": "1,986.42万元", "spent": "1,992.08万元"}],
        ),
    ],
)
def test_prose_flows(text: str, want: list[dict[str, str]]) -> None:
    assert flows(text, "flows.prose") == want


def test_prose_flows_skip_another_years_money() -> None:
    assert flows("2022年该项目支出预算100万元，实际支出95万元。", "flows.prose", year="2023") == []


TABLE = (
    "项目资金（万元）\t\t全年预算数\t全年执行数\t分值\t执行率\t得分\n"
    "\t年度资金总额\t200\t180\t10\t90%\t9\n"
    "\t其中：中央补助\t150\t140\t—\t93.33%\t—\n"
    "\t地方资金\t50\t40\t—\t80%\t—\n"
)


def test_table_flows_and_their_total_rows() -> None:
    got = facts(TABLE, "flows.table")
    assert [(f.name, q(f.budget), q(f.spent), q(f.rate)) for f in got.fund_flows] == [
        ("年度资金总额", "200万元", "180万元", "90%"),
        ("其中:中央补助", "150万元", "140万元", "93.33%"),
        ("地方资金", "50万元", "40万元", "80%"),
    ]
    assert [(q(s.total), [q(p) for p in s.parts]) for s in got.sums] == [
        ("200万元", ["150万元", "50万元"]),
        ("180万元", ["140万元", "40万元"]),
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("城乡居民医保补助资金实际到位350万元。", [("城乡居民医保补助资金实际到位", "350万元")]),
        ("医疗救助资金支出120万元。", [("医疗救助资金支出", "120万元")]),
        # an amount with no fund family named is no mention
        ("本年度下达资金350万元。", []),
    ],
)
def test_fund_mentions(text: str, want: list[tuple[str, str]]) -> None:
    assert [(m.fund, q(m.amount)) for m in facts(text, "flows.mentions").fund_mentions] == want
