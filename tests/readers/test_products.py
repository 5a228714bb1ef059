"""Product readers: count × standard = amount, and a per-capita figure = total ÷ count."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("products.prose",)


def products(text: str) -> list[tuple]:
    return [
        (q(p.amount), [q(x) for x in p.factors], [q(x) for x in p.divisors], f"{p.scale.normalize():f}")
        for p in facts(text, "products.prose").products
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # persons, a standard per person, the amount: 元 × 人 in 万元
        ("资助3,264人，每人每年2,000元，共计652.80万元。", [("652.80万元", ["3,264人", "2,000元"], [], "0.0001")]),
        # households at a standard per household
        ("补助农户120户，每户补助5,000元，补助资金60万元。", [("60万元", ["120户", "5,000元"], [], "0.0001")]),
        # a monthly standard is not multiplied into a yearly amount
        ("保障对象300人，每人每月补助500元，全年资金180万元。", []),
        # two counts: which one the standard multiplies is not known
        ("培训医生80人、护士120人，每人补助300元，共计6万元。", []),
        # per capita: the money total over the count of the people named
        (
            "其中领取待遇人员9.83万人。全年发放养老金3.42亿元，领取待遇人员人均领取3,479元。",
            [("3,479元", ["3.42亿元"], ["9.83万人"], "10000")],
        ),
        # a per-capita standard with no total beside it computes nothing
        ("人均财政补助标准提高到610元。", []),
    ],
)
def test_prose_products(text: str, want: list) -> None:
    assert products(text) == want
