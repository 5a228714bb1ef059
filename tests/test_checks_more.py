"""Behaviour of single checks on small hand-made cases beyond the registry's fires/clean pair."""

from __future__ import annotations

from pathlib import Path

from auditor.audit import audit_path

from .conftest import FIXTURES

CHECKS = FIXTURES / "checks"


def flags(path: Path) -> list[tuple[str, str, str]]:
    return [(f.check, f.severity.value, f.stated) for f in audit_path(path).flags]


def test_fund_line_restated_with_another_amount() -> None:
    assert flags(CHECKS / "DUPLICATE" / "fires_fund.txt") == [("DUPLICATE", "error", "455.41")]
    assert flags(CHECKS / "DUPLICATE" / "clean_fund.txt") == []


def test_exec_rate_on_current_year_base_is_consistent(tmp_path: Path) -> None:
    # Seed 002 附件3: 858.97 (当年下达资金支出) ÷ 1108 (当年下达) = 77.52%, a consistent base.
    f = tmp_path / "r.txt"
    f.write_text(
        "当年下达我市补助资金 1108 万元,上年结转至本年使用 25.73 万元,共计 1133.73 万元。\n"
        "全市共支出 883.3 万元, 其中结转资金支出 24.33 万元, 当年下达资金支出 858.97 万元, 预算执行率为 77.52%。\n",
        encoding="utf-8",
    )
    assert flags(f) == []


def test_exec_rate_matching_only_the_allocation_is_a_warning_naming_the_base(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text(
        "2024年，该项目资金上年结转77.40万元，当年下达437万元，实际支出400.00万元，资金预算执行率为91.53%。\n",
        encoding="utf-8",
    )
    [flag] = audit_path(f).flags
    assert (flag.check, flag.severity.value, flag.computed) == ("EXEC_RATE", "warning", "77.76%")
    assert "当年下达437万元" in flag.message and "口径" in flag.message


def test_grade_uses_the_bands_the_report_declares(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text(
        "评价结果划分为四个等级：评价结果85（含）-100分为优、75（含）-85分为良、60（含）-75分为中、60分以下为差。\n"
        "绩效自评得分86.00分，绩效评价自评为良好。\n",
        encoding="utf-8",
    )
    [flag] = audit_path(f).flags
    assert flag.check == "GRADE" and flag.computed == "优"


def test_integer_scores_are_exact_but_decimals_keep_their_rounding(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text(
        "1.预算管理。总分10分，自评得分9.99分。其中：（1）预算编制质量总分5分，自评得分4.99分。"
        "（2）单位收入统筹总分5分，自评得分5分。\n",
        encoding="utf-8",
    )
    assert flags(f) == []


def test_prose_claim_that_a_missed_target_was_beaten(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text(
        "3.二、三级医疗机构医保码全流程具体应用率为78%，大于80%，得3分。\n"
        "4.医保基金结算清单上传率100%，大于70%，得3分。\n"
        "人均资产变化率为-2.2%，小于0，小于市级行政事业单位人均资产变化率15.358%。\n",
        encoding="utf-8",
    )
    assert flags(f) == [("TARGET", "warning", "78%")]


def test_prose_money_against_the_self_evaluation_table() -> None:
    assert flags(CHECKS / "DUPLICATE" / "fires_table.txt") == [
        ("DUPLICATE", "error", "563.8"),
        ("DUPLICATE", "error", "83.65%"),
    ]
    assert flags(CHECKS / "DUPLICATE" / "clean_table.txt") == []


def test_score_table_total_row(tmp_path: Path) -> None:
    header = "一级指标\t分值\t二级指标\t分值\t三级指标\t分值\t得分\t扣分总计\n"
    rows = (
        "过程管理\t22\t资金管理\t17\t预算执行率\t10\t7.24\t2.76\n"
        "\t\t\t\t资金使用合规性\t3\t3\t\n\t\t\t\t资金监管有效性\t4\t4\t\n"
        "\t\t组织管理\t5\t管理制度健全有效性\t2\t1\t1\n\t\t\t\t绩效评价机制健全性\t3\t3\t\n"
    )
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(header + rows + "合计\t22\t\t22\t\t22\t18.24\t3.76\n", encoding="utf-8")
    bad.write_text(header + rows + "合计\t22\t\t22\t\t22\t19.24\t3.76\n", encoding="utf-8")
    assert flags(good) == []
    assert flags(bad) == [("SCORE_SUM", "error", "19.24")]


def test_one_figure_written_twice_at_one_precision_must_be_written_alike(tmp_path: Path) -> None:
    # 5万元 and 6万元 meet at 5.5 under the rounding rule, but one figure written twice at one precision is
    # written the same way; 5.48万元 restated as 5.5万元 (another precision) is consistent.
    f = tmp_path / "r.txt"
    f.write_text(
        "财政局【2023】41号文件下达本县资金5万元。\n二、财政局【2023】41号文件下达本县山洪灾害防治设施维养6万元。\n"
        "财政局【2023】12号文件下达本县资金5.48万元。\n三、财政局【2023】12号文件下达本县水资源管理资金5.5万元。\n",
        encoding="utf-8",
    )
    assert flags(f) == [("DUPLICATE", "error", "5")]
