"""Score readers: weights and scores of the score tree, in prose and in score tables."""

from __future__ import annotations

import pytest

from ._read import facts, q, tree

READERS = ("scores.prose", "scores.table")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # numbered items nest by their numbering
        (
            "（一）项目决策（分值20分，得分18分）\n1.项目立项（分值10分，得分9分）\n2.绩效目标（分值10分，得分9分）\n",
            [("项目决策", "20分", "18分", [("项目立项", "10分", "9分", []), ("绩效目标", "10分", "9分", [])])],
        ),
        ("产出指标分值30分，得分27分。", [("产出指标", "30分", "27分", [])]),
        # a bare weight in parentheses takes the score its clause states later
        ("满意度指标（10分）：群众满意度为96%，得9分。", [("满意度指标", "10分", "9分", [])]),
        # not applicable: full marks for the weight
        (
            "（3）政府采购规范性（满分2分）。我局本年度无政府采购事项，本项不扣分。",
            [("政府采购规范性", "2分", "2分", [])],
        ),
        ("项目得分率为90%。", []),
    ],
)
def test_prose_scores(text: str, want: list) -> None:
    assert tree(facts(text, "scores.prose").scores) == want


TABLE = (
    "一级指标\t分值\t二级指标\t分值\t三级指标\t分值\t得分\n"
    "决策\t20\t项目立项\t10\t立项依据充分性\t5\t5\n"
    "\t\t\t\t立项程序规范性\t5\t4\n"
    "\t\t绩效目标\t10\t绩效目标合理性\t10\t9\n"
    "合计\t20\t\t20\t\t20\t18\n"
)


def test_score_table_tree_and_total_row() -> None:
    got = facts(TABLE, "scores.table")
    assert tree(got.scores) == [
        (
            "决策",
            "20分",
            None,
            [
                (
                    "项目立项",
                    "10分",
                    None,
                    [("立项依据充分性", "5分", "5分", []), ("立项程序规范性", "5分", "4分", [])],
                ),
                ("绩效目标", "10分", None, [("绩效目标合理性", "10分", "9分", [])]),
            ],
        )
    ]
    assert [(q(s.total), [q(p) for p in s.parts]) for s in got.sums] == [("18分", ["5分", "4分", "9分"])]
