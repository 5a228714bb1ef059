"""Normalised text: what the readers read, with every character traced back to the original."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.audit import audit_path
from auditor.normalize import chinese_number, normalize, normalized


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # numbers written in Chinese, money scaled by the unit they stand before
        ("预算一百万元", "预算100万元"),
        ("拨付壹佰贰拾万元", "拨付120万元"),
        ("共计一亿二千万元", "共计12000万元"),
        ("补助三点五万元", "补助3.5万元"),
        ("执行率百分之九十", "执行率90%"),
        ("执行率百分之九十八点五", "执行率98.5%"),
        ("服务二十个村", "服务20个村"),
        ("结余零元", "结余0元"),
        # words that are not numbers stay words
        ("十分重要", "十分重要"),
        ("三公经费", "三公经费"),
        ("一个季度开展一次", "一个季度开展一次"),
        ("第一百名", "第一百名"),
        ("千万不能", "千万不能"),
        # traditional characters and the pinyin glosses of mirror sites
        ("醫(yī)療保險參保人數(shù)134592萬人", "医疗保险参保人数134592万人"),
        ("全年预算数(A)", "全年预算数(A)"),
        # full-width forms, converter debris
        ("１，１０８万元（含）", "1,108万元(含)"),
        ("12.5\\r\\n万元", "12.5万元"),
        ("到位2640万?，", "到位2640万元,"),
        ("1 084.40万元", "1084.40万元"),
        ("$\\geq 90\\%$", "≥ 90%"),
        # a bare 万 ends an amount; before a noun it scales the noun
        ("资金2640萬)", "资金2640万元)"),
        ("机构102.6萬個", "机构102.6万个"),
        ("结存4.26萬億元", "结存4.26万亿元"),
        # circled numbers are markers, not digits
        ("①森林防火", "①森林防火"),
    ],
)
def test_normalised_text(text: str, want: str) -> None:
    assert normalized(text) == want


@pytest.mark.parametrize(
    ("run", "value"),
    [
        # reported broken in cn2an's float path (issues #55, #80, #85): exact here
        ("一百九十万零三千九百七十一", Decimal(1903971)),
        ("壹拾万零叁仟肆佰伍拾叁", Decimal(103453)),
        ("十六点四亿", Decimal("1640000000")),
        ("一千零八十四点二五", Decimal("1084.25")),
        ("两千", Decimal(2000)),
        ("零点零七", Decimal("0.07")),
    ],
)
def test_chinese_numbers_are_exact(run: str, value: Decimal) -> None:
    assert chinese_number(run) == value


def test_a_number_read_in_chinese_quotes_the_original_characters() -> None:
    text = "全年预算一百万元。"
    out, offs = normalize(text, list(range(10, 10 + len(text))))
    i = out.index("100")
    assert text[offs[i] - 10 : offs[i + 2] - 10 + 1] == "一百"


@given(st.text(alphabet="一二三百千万亿点元人%分之百零壹贰萬億醫(yī)１２，. 0123456789\\rn?$", max_size=40))
def test_offsets_stay_ordered_and_inside_the_source(text: str) -> None:
    out, offs = normalize(text, list(range(len(text))))
    assert len(out) == len(offs)
    assert all(0 <= o < len(text) for o in offs)
    assert offs == sorted(offs)


def test_a_report_written_in_chinese_numerals_is_checked(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text("该项目全年预算一百万元，实际支出九十万元，预算执行率百分之九十。\n", encoding="utf-8")
    [unit] = audit_path(f).units
    assert unit.status == "ok" and unit.checked == 1
    [row] = unit.checks
    assert (row.check, row.stated, row.computed) == ("EXEC_RATE", "90%", "90%")
    assert "百分之九十" in row.evidence and "九十万元" in row.evidence


def test_a_slip_in_chinese_numerals_is_flagged(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text("该项目全年预算壹佰万元，实际支出捌拾万元，预算执行率百分之九十。\n", encoding="utf-8")
    [flag] = audit_path(f).flags
    assert (flag.check, flag.stated, flag.computed) == ("EXEC_RATE", "90%", "80%")


def test_a_page_of_poetry_is_unchecked_not_ok(tmp_path: Path) -> None:
    f = tmp_path / "poem.txt"
    f.write_text("静夜思\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n", encoding="utf-8")
    [unit] = audit_path(f).units
    assert (unit.status, unit.checked, unit.row()["facts"]) == ("unchecked", 0, 0)
