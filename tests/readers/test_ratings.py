"""Rating readers: the total score, its grade word and declared bands; claims that every target was met."""

from __future__ import annotations

import pytest

from ._read import facts, q

READERS = ("ratings.prose", "ratings.claims")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("经综合评价，本项目得分为92.5分，评价等级为“优”。", [("92.5分", "优", 0)]),
        # declared bands are not the grade; the grade is stated after them
        (
            "本项目绩效自评得分88分，按照90分以上为优、80（含）-90分为良的标准，自评等级为良。",
            [("88分", "良", 2)],
        ),
        ("总体自评为95分。", [("95分", None, 0)]),
        ("满意度指标得分率为95%。", []),
    ],
)
def test_prose_ratings(text: str, want: list) -> None:
    got = facts(text, "ratings.prose").ratings
    assert [(q(r.score), r.grade, len(r.bands)) for r in got] == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("本年度各项绩效目标均已完成，未偏离年度绩效目标。", ["all_met", "no_deviation"]),
        ("全面完成了年度目标任务。", ["all_met"]),
        ("部分指标未能全部完成。", []),
        ("工程全部完成验收。", []),
    ],
)
def test_claims(text: str, want: list[str]) -> None:
    assert [c.kind for c in facts(text, "ratings.claims").claims] == want
