"""Amounts in 亿元, 万元 and 元 within one sum are compared in one unit."""

from __future__ import annotations

from pathlib import Path

from auditor.audit import audit_path


def test_mixed_money_units(tmp_path: Path) -> None:
    f = tmp_path / "mixed.txt"
    f.write_text(
        "2024年安排下达资金 33.4246 亿元，其中中央补助 253069 万元，省级补助 81177 万元。\n"
        "2023年安排下达资金 3.5 亿元，其中中央补助 25306.9 万元，省级补助 8117.7 万元。\n",
        encoding="utf-8",
    )
    flags = audit_path(f).flags
    assert [(x.check, x.stated) for x in flags] == [("SUM", "3.5")]
    assert flags[0].computed == "3.34246"  # 33424.6万元 shown in the total's unit


def test_thousands_separators_and_fullwidth_digits(tmp_path: Path) -> None:
    f = tmp_path / "fw.txt"
    f.write_text(
        "2023 年金凤区居民医疗保险参保目标任务人数 １９４,３５０ 人，实际完成参保人数 202,992 人，完成比例 104.45%。\n"
        "2024 年全市参保人数 5,300,548 人，其中城乡居民 4,906,748 人，城镇职工 393,800 人。\n"
        "2024 年全市参保人数 5,300,548 人，其中城乡居民 4,906,748 人，城镇职工 383,800 人。\n",
        encoding="utf-8",
    )
    flags = audit_path(f).flags
    assert [(x.check, x.stated, x.computed) for x in flags] == [("SUM", "5,300,548", "5290548")]
