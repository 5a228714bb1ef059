"""Change readers: this year's value, last year's and the stated increase or decrease."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("changes.prose",)


def changes(text: str) -> list[tuple]:
    return [
        (q(c.before), q(c.after), q(c.change), c.direction, c.relative) for c in facts(text, "changes.prose").changes
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # both values and the change in one clause
        ("公务接待费12.5万元，较上年15万元下降16.67%。", [("15万元", "12.5万元", "16.67%", -1, True)]),
        ("培训人数360人，较去年300人增加60人。", [("300人", "360人", "60人", 1, False)]),
        # the change refers to a value stated elsewhere under its name
        (
            "本年下达资金550万元。下达资金较上年500万元增长10%。",
            [("500万元", "550万元", "10%", 1, True)],
        ),
        # last year's value stated after this year's, then the change
        ("2024年支出2,160万元，2023年为1,845万元，较上年增长17.07%。", [("1,845万元", "2,160万元", "17.07%", 1, True)]),
        # years compared are no change of a quantity
        ("2024年较2023年增加1年。", []),
    ],
)
def test_prose_changes(text: str, want: list) -> None:
    assert changes(text) == want
