"""Plain-text tables rebuilt as grids: one table test per layout, input text → rows of cell texts."""

from __future__ import annotations

import pytest

from auditor.texttables import find_tables


def rows(text: str) -> list[list[list[str]]]:
    grids = find_tables(text)
    for g in grids:
        for r in g.rows:
            for c in r:
                if c.start >= 0:
                    # Every cell points at its own text in the document (lines of a cell may be joined).
                    assert "".join(text[c.start : c.end].split()) == "".join(c.text.split())
    return [[[c.text for c in r] for r in g.rows] for g in grids]


CASES = [
    (
        "tab rows",
        "说明\n\n项目\t预算\t执行\n甲\t10\t8\n乙\t20\t18\n\n后文",
        [[["项目", "预算", "执行"], ["甲", "10", "8"], ["乙", "20", "18"]]],
    ),
    (
        "markdown pipe rows",
        "| 机构 | 床位 |\n|---|---|\n| 总 计 | 30 |\n| 甲院 | 10 |\n| 乙院 | 20 |\n",
        [[["机构", "床位"], ["总 计", "30"], ["甲院", "10"], ["乙院", "20"]]],
    ),
    (
        "pipe rows without the leading bar, one wrapped by an empty cell",
        "地区 | 合计 | 提前 | 本次 |\n甲 | 10 | 4 | 6 |\n乙 | 2 |\n| 2 |\n丙 | 5 | 1 | 4 |\n",
        [[["地区", "合计", "提前", "本次"], ["甲", "10", "4", "6"], ["乙", "2", "", "2"], ["丙", "5", "1", "4"]]],
    ),
    (
        "one cell per line ending in a bar",
        "单位 |\n金额 |\n中央 |\n省级 |\n甲院 |\n12.5 |\n10.0 |\n2.5 |\n乙院 |\n8.0 |\n6.0 |\n2.0 |\n",
        [[["单位", "金额", "中央", "省级"], ["甲院", "12.5", "10.0", "2.5"], ["乙院", "8.0", "6.0", "2.0"]]],
    ),
    (
        "bars alone are empty cells; a title over the table is its caption, not a row",
        "自评表 |\n|||\n项目 |\n预算 |\n执行 |\n|\n总额 |\n30 |\n27 |\n|\n其中 |\n20 |\n18 |\n|\n",
        [[["项目", "预算", "执行", ""], ["总额", "30", "27", ""], ["其中", "20", "18", ""]]],
    ),
    (
        "cells ending in a bar, each followed by a line holding a bar alone",
        "项目 |\n|\n预算 |\n|\n执行 |\n|\n设备 |\n|\n100 |\n|\n90 |\n|\n培训 |\n|\n50 |\n|\n45 |\n|\n",
        [[["项目", "预算", "执行"], ["设备", "100", "90"], ["培训", "50", "45"]]],
    ),
    (
        "cells alternating with lines holding a bar alone",
        "项目\n|\n预算\n|\n执行\n|\n设备\n|\n100\n|\n90\n|\n合计\n|\n100\n|\n90\n|\n",
        [[["项目", "预算", "执行"], ["设备", "100", "90"], ["合计", "100", "90"]]],
    ),
    (
        "one cell per line between blank lines, a section label standing alone",
        "\n\n2020\n\n3月底\n\n2021\n\n3月底\n\n增减\n\n合计\n\n100\n\n110\n\n10\n\n按类型分\n\n甲\n\n60\n\n70\n\n10\n\n乙\n\n40\n\n40\n\n0\n",
        [
            [
                ["", "2020 3月底", "2021 3月底", "增减"],
                ["合计", "100", "110", "10"],
                ["按类型分", "", "", ""],
                ["甲", "60", "70", "10"],
                ["乙", "40", "40", "0"],
            ]
        ],
    ),
    (
        "space-separated rows under a header of one label per number",
        "镇 小计 C级 D级\n甲镇 8 1 7\n乙镇 5 0 5\n丙镇 2 1 1\n",
        [[["镇", "小计", "C级", "D级"], ["甲镇", "8", "1", "7"], ["乙镇", "5", "0", "5"], ["丙镇", "2", "1", "1"]]],
    ),
    (
        "label-value blocks written one column at a time",
        "资金合计(万元) 年度总额: 30.00\n其中:中央 20.00\n市级 10.00\n其中:\n"
        "甲项目(万元)\n年度总额: 18.00\n其中:中央 12.00\n市级 6.00\n",
        [
            [
                ["", "资金合计(万元)", "甲项目(万元)"],
                ["资金合计(万元) 年度总额", "30.00", "18.00"],
                ["其中:中央", "20.00", "12.00"],
                ["市级", "10.00", "6.00"],
            ]
        ],
    ),
    (
        "a whole table on one line",
        "序号 项目 预算 决算 执行率 1 设备 100.00 90.00 90.00 2 培训 50.00 45.00 90.00 3 运维 20.00 20.00 100.00",
        [
            [
                ["序号", "项目", "预算", "决算", "执行率"],
                ["1", "设备", "100.00", "90.00", "90.00"],
                ["2", "培训", "50.00", "45.00", "90.00"],
                ["3", "运维", "20.00", "20.00", "100.00"],
            ]
        ],
    ),
]


@pytest.mark.parametrize(("layout", "text", "want"), CASES, ids=[c[0] for c in CASES])
def test_layouts_become_grids(layout: str, text: str, want: list) -> None:
    assert rows(text) == want


def test_a_row_that_lost_a_cell_without_a_trace_is_marked_ragged() -> None:
    [grid] = find_tables(
        "地区 合计 提前 本次 甲县 10 4 6 乙县 2 2 丙县 5 1 4 丁县 9 3 6 戊县 4 1 3 己县 7 2 5 庚县 6 1 5 辛县 8 2 6 "
        "壬县 3 1 2 癸县 12 5 7"
    )
    assert [c.text for c in grid.rows[2]][:3] == ["乙县", "2", "2"] and grid.ragged == {2}


def test_prose_is_no_table() -> None:
    text = "2024年，县财政下达资金320万元，实际支出298.6万元。\n本年度共开展培训12次，培训人员560人次。\n"
    assert find_tables(text) == []
