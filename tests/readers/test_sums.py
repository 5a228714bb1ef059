"""Sum readers: a total and its parts in prose lists and under a table's 总额 header."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("sums.prose", "sums.header_row")


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
    ],
)
def test_prose_sums(text: str, want: list) -> None:
    assert sums(text, "sums.prose") == want


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
