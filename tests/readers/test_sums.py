"""Sum readers: a total and its parts in prose lists and under a table's 总额 header."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("sums.prose", "sums.header_row", "sums.named_items", "sums.increments", "sums.sangong")


def sums(text: str, reader: str) -> list[tuple[str | None, list[str | None]]]:
    return [(q(s.total), [q(p) for p in s.parts]) for s in facts(text, reader).sums]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # a total, then 其中 and the parts
        (
            "下达补助资金860万元，其中：中央资金600万元，省级资金200万元，市级资金60万元。",
            [("860万元", ["600万元", "200万元", "60万元"])],
        ),
        # parts in parentheses after the total
        ("拨付专项资金105万元（其中中央资金86万元，市级资金19万元）。", [("105万元", ["86万元", "19万元"])]),
        # counts sum like amounts, in their own unit
        ("全年培训学员320人，其中男学员180人、女学员140人。", [("320人", ["180人", "140人"])]),
        # parts first, the total after 共计
        ("甲乡45万元、乙乡30万元、丙乡25万元，共计100万元。", [("100万元", ["45万元", "30万元", "25万元"])]),
        # a ；after the list ends it when the parts already make the total
        (
            "救助对象27.36万人，其中城市1.82万人，农村25.54万人；特困人员2.84万人。",
            [("27.36万人", ["1.82万人", "25.54万人"])],
        ),
        # a rate among the items is no part
        ("全年支出88万元，其中人员经费30万元，执行率95%。", []),
        # 其中 starting the sentence after the total's full stop
        ("下达资金791万元。其中：河道治理491万元，小流域治理300万元。", [("791万元", ["491万元", "300万元"])]),
        # …but not when the sentence before holds several amounts: which one is the total is not known
        ("实际支出2,187.64万元，结余108.66万元。其中：甲612.48万元，乙1,038.26万元。", []),
        # each part followed by its share: the shares are skipped as parts
        (
            "本年收入合计3765.66万元，其中：财政拨款收入1008.64万元，占26.79%；事业收入2757.02万元，占73.21%。",
            [("3765.66万元", ["1008.64万元", "2757.02万元"])],
        ),
        # lists without 其中: 分别为, 主要用于以下方面, 资金来源为
        ("项目资金1950万元，分别为：甲项目1000万元、乙项目950万元。", [("1950万元", ["1000万元", "950万元"])]),
        (
            "财政拨款支出1264.92万元，主要用于以下方面：社保支出67.64万元，卫生健康支出1196.48万元，农林水支出0.8万元。",
            [("1264.92万元", ["67.64万元", "1196.48万元", "0.8万元"])],
        ),
        # items carrying a count and an amount: each unit family is its own list
        (
            "补助农户5户、资金12万元，其中甲村3户、7万元，乙村2户、5万元。",
            [("12万元", ["7万元", "5万元"]), ("5户", ["3户", "2户"])],
        ),
        # 人 and 人次 are kept apart
        ("服务1200人次、800人，其中门诊700人次、住院500人次。", [("1200人次", ["700人次", "500人次"])]),
        # a change is no total: 比上年增加0.42万人，其中… breaks down this year's figure, not the increase
        (
            "参保人数60.60万人，比上年增加0.42万人，其中职工20.64万人、居民39.96万人。",
            [("60.60万人", ["20.64万人", "39.96万人"])],
        ),
        # an inner 其中 breaks down the part before it, not the total
        (
            "直属单位23个：1.行政单位1个；2.医疗单位11个，其中差额拨款5个；3.卫生单位7个；4.计生单位4个。",
            [("23个", ["1个", "11个", "7个", "4个"])],
        ),
        # the list stops where its first parts make the total and the whole does not
        (
            "下达资金100万元，其中：设备60万元、培训40万元，另安排工作经费20万元。",
            [("100万元", ["60万元", "40万元"])],
        ),
        # parts with their own total after them are a selection of the head total: a shortfall is no finding
        (
            "一般公共预算支出46.85亿元，其中教育支出8.96亿元、社保支出7.42亿元、卫生支出5.13亿元，三项合计21.51亿元。",
            [("46.85亿元", ["8.96亿元", "7.42亿元", "5.13亿元"])],
        ),
        # a list joined by 、 right after the total, or after 用于, without 其中
        ("安排资金100万元，甲镇60万元、乙镇40万元。", [("100万元", ["60万元", "40万元"])]),
        ("下达资金135万元，用于设备购置90万元、人员培训45万元。", [("135万元", ["90万元", "45万元"])]),
        # …which ends at the next comma and must be of the total's measure
        ("退回基金2.05万元，处理当事人3人、罚款4.59万元，追回1053.67万元。", []),
        # levels of one hierarchy are not parts of the number of indicators
        ("共设置指标18个，其中一级指标3个、二级指标6个、三级指标9个。", []),
    ],
)
def test_prose_sums(text: str, want: list) -> None:
    assert sums(text, "sums.prose") == want


def test_numbered_items_after_a_colon() -> None:
    """A total ending in a colon, then one paragraph per numbered item: each item's first amount is a part."""
    text = "下达资金300万元，具体安排如下：\n1. 甲县120万元（其中设备80万元）；\n2. 乙县100万元；\n3. 丙县80万元。\n"
    assert sums(text, "sums.prose") == [("300万元", ["120万元", "100万元", "80万元"])]


def test_each_share_against_the_list_total() -> None:
    text = "本年支出合计4021.94万元，其中：基本支出2719.24万元，占67.61%；项目支出1302.70万元，占32.39%。"
    got = facts(text, "sums.prose").ratios
    assert [(q(r.rate), [q(x) for x in r.numerator], [q(x) for x in r.denominator]) for r in got] == [
        ("67.61%", ["2719.24万元"], ["4021.94万元"]),
        ("32.39%", ["1302.70万元"], ["4021.94万元"]),
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("资金总额\t财政拨款\t其他资金\n120\t100\t20\n", [("120万元", ["100万元", "20万元"])]),
        ("单位：元\t\t\n合计\t中央\t省级\n5000\t3000\t2000\n", [("5000元", ["3000元", "2000元"])]),
        # a header without a total names no sum
        ("财政拨款\t其他资金\n100\t20\n", []),
    ],
)
def test_header_row_sums(text: str, want: list) -> None:
    assert sums(text, "sums.header_row") == want


@pytest.mark.parametrize(
    ("text", "exhaustive"),
    [
        # three or more kinds of a count may be the main ones only…
        ("全年培训3,200人，其中医生1,100人、护士1,300人、药师500人。", False),
        # …unless an item for the rest closes the list
        ("补贴机具1,236台（套），其中拖拉机412台、收获机械186台、其他机具521台。", True),
        # a selection with its own total
        ("支出46.85亿元，其中教育支出8.96亿元、社保支出7.42亿元，两项合计16.38亿元。", False),
    ],
)
def test_when_a_list_is_complete(text: str, exhaustive: bool) -> None:
    assert [s.exhaustive for s in facts(text, "sums.prose").sums] == [exhaustive]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # a count, then the names it counts, joined by 、
        ("镇政府下设3个内设机构：党政办公室、经济发展办公室、社会事务办公室。", [("3个", 3)]),
        # the names end at the ，or ；that starts the next clause
        ("局机关内设2个股室：办公室、艺术股，下属县图书馆、县文化馆2个事业单位。", [("2个", 2)]),
        ("事业单位5个，分别为：甲医院、乙医院、丙医院、丁医院、戊医院；全额拨款单位6个。", [("5个", 5)]),
        # the count in the sentence before, the items (with their money) after ；
        ("批复项目3个，项目资金60万元。分别为：甲项目20万元；乙项目30万元；丙项目10万元。", [("3个", 3)]),
        # an open list is no count: …等12类
        ("提供家庭医生签约、慢病随访、健康教育等12类服务：甲、乙。", []),
        # items with counts of their own are parts to add, not names
        ("分解为26项：数量指标13项；质量指标12项；满意度指标1项。", []),
    ],
)
def test_named_items(text: str, want: list) -> None:
    got = facts(text, "sums.named_items").item_counts
    assert [(q(c.count), len(c.items)) for c in got] == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("在去年420元的基础上新增30元，平均每人每年达到450元。", [("450元", ["420元", "30元"])]),
        ("个人缴费在2015年人均120元的基础上提高30元，达到人均150元。", [("150元", ["120元", "30元"])]),
        ("标准提高到450元。", []),
        ("租赁补贴计划发放300户，实际发放366户，超额66户。", [("366户", ["300户", "66户"])]),
    ],
)
def test_increments(text: str, want: list) -> None:
    assert sums(text, "sums.increments") == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # a colon right after a figure, then figures of its measure
        (
            "护岸工程共4段，长3.47km：右岸1段，长0.98km，左岸3段，长2.49km；拆除重建跌水1座。",
            [("3.47km", ["0.98km", "2.49km"]), ("4段", ["1段", "3段"])],
        ),
        # …but not when a name follows the colon
        ("卫生单位7个，其中参公单位1个：市卫生监督所；全额拨款单位5个，差额拨款单位1个。", []),
    ],
)
def test_a_colon_after_a_figure(text: str, want: list) -> None:
    assert [x for x in sums(text, "sums.prose") if x[0] != "7个"] == want


def test_sangong_items_across_sentences() -> None:
    """The “三公” total and its items in separate sentences; the changes on last year add up too."""
    text = (
        "2018年度“三公”经费财政拨款支出决算242,870.81元，比2017年减少142,858.57元。\n"
        "因公出国(境)费支出决算0元，增加0元；公务用车购置及运行费支出决算52,814.20元，占21.75%，"
        "减少73,730.18元；公务接待费支出决算190,056.61元，占78.25%，减少69,128.39元。\n"
    )
    got = facts(text, "sums.sangong")
    assert [(q(s.total), [q(p) for p in s.parts]) for s in got.sums] == [
        ("242,870.81元", ["0元", "52,814.20元", "190,056.61元"]),
        ("142,858.57元", ["0元", "73,730.18元", "69,128.39元"]),
    ]
    assert [(q(r.rate), q(r.numerator[0]), q(r.denominator[0])) for r in got.ratios] == [
        ("21.75%", "52,814.20元", "242,870.81元"),
        ("78.25%", "190,056.61元", "242,870.81元"),
    ]
