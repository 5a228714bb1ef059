"""Ratio readers: a stated percentage with the numerator and denominator its name points to."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("ratios.prose",)


def ratios(text: str) -> list[tuple]:
    return [
        (q(r.rate), [q(x) for x in r.numerator], [q(x) for x in r.denominator], r.complement)
        for r in facts(text, "ratios.prose").ratios
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # 占…的 names the base
        (
            "公用经费120万元，占本年支出合计的15%。本年支出合计800万元。",
            [("15%", ["120万元"], ["800万元"], False)],
        ),
        # a completion rate of a count against its target
        ("计划完成改造任务80户，实际完成改造72户，完成率90%。", [("90%", ["72户"], ["80户"], False)]),
        # a pass rate as one minus the failures over the total checked
        (
            "共抽检样品200批次。其中不合格样品4批次，样品合格率98%。",
            [("98%", ["4批次"], ["200批次"], True)],
        ),
        # a threshold is no computed ratio
        ("全县参保人数50万人，参保率达到95%以上。", []),
    ],
)
def test_prose_ratios(text: str, want: list) -> None:
    assert ratios(text) == want
