"""TARGET: an indicator that misses its target yet has full marks, no reason, or a claim of no deviation."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import make_flag, written
from auditor.facts import Facts, Indicator, Quantity
from auditor.flags import Flag, Severity
from auditor.intervals import Interval

_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "=", "range": "区间"}


def missed(ind: Indicator) -> bool:
    """True only when the actual misses the target beyond any rounding."""
    t, a = ind.target, ind.actual
    if t is None or a is None:
        return False
    if t.unit and a.unit and t.unit != a.unit:
        return False
    # A target is a threshold, exact as written; only the achieved value carries rounding.
    ti, ai = Interval.exact(t.value), a.interval
    if ind.op == ">=":
        return ai.hi < ti.lo
    if ind.op == ">":
        return ai.hi <= ti.lo
    if ind.op == "<=":
        return ai.lo > ti.hi
    if ind.op == "<":
        return ai.lo >= ti.hi
    if ind.op == "=" and t.unit:
        # "100%" or "0人" written without ≥/≤: a rate or count short of it is a miss, a zero target is exceeded.
        if t.value == 0:
            return ai.lo > 0
        return ai.hi < ti.lo
    if ind.op == "range" and ind.target_high is not None:
        return ai.hi < ti.lo or ai.lo > ind.target_high.value
    return False


def explained(ind: Indicator) -> bool:
    """The row gives a reason for the miss ("未偏离" in the reason column explains nothing)."""
    reason = ind.reason.strip()
    if re.match(r"(?:基本)?(?:未偏离|无偏离|无偏差|未偏差|没有偏离|已完成|完成|达标)", reason):
        return False  # "未偏离年度目标" claims the opposite of the miss, it does not explain it
    return bool(reason) and not re.fullmatch(r"(?:无|/|-|—)[。.]?", reason)


def _comparable(ind: Indicator) -> bool:
    """Target and actual are numbers of one unit with an operator the check can decide."""
    t, a = ind.target, ind.actual
    if t is None or a is None or ind.op == "text":
        return False
    if t.unit and a.unit and t.unit != a.unit:
        return False
    return not (ind.op == "=" and not t.unit) and not (ind.op == "range" and ind.target_high is None)


def _target_text(ind: Indicator) -> str:
    assert ind.target is not None
    if ind.op == "range" and ind.target_high is not None:
        return f"{ind.target.text}–{ind.target_high.text}{ind.target.unit}"
    return f"{_OPS.get(ind.op, ind.op)}{ind.target.text}{ind.target.unit}"


@register("TARGET", Severity.WARNING)
def check(facts: Facts) -> Iterator[Flag]:
    """A missed indicator with full marks, an empty 未完成原因, or a report that claims no deviation."""
    for ind in facts.indicators:
        if not _comparable(ind):
            continue
        assert ind.target is not None and ind.actual is not None
        target = _target_text(ind)
        evidence = [ind.actual.evidence, ind.evidence]
        formula = f"{ind.actual.text}{ind.actual.unit} {target}"
        if not missed(ind):
            yield make_flag(
                "TARGET",
                Severity.WARNING,
                f"指标“{ind.name}”目标{target}，实际完成{ind.actual.text}{ind.actual.unit}，已达标",
                ind.actual,
                target,
                "",
                evidence,
                formula=formula,
                ok=True,
            )
            continue
        why: list[str] = []
        if ind.score is not None and ind.max_score is not None and ind.score.value >= ind.max_score.value:
            why.append(f"仍得满分{ind.score.text}分")
        if ind.claimed_met:
            why.append("文字却称已超过目标")
        if ind.has_reason_column and not explained(ind):
            why.append(f"偏差原因栏称“{ind.reason.strip()}”" if ind.reason.strip() else "未完成原因栏为空")
        # A miss the row itself explains is acknowledged; a report-wide "all met" only hides an unexplained one.
        if facts.claims and not ind.claimed_met and not explained(ind):
            why.append("报告称“" + " ".join(facts.claims[0].evidence.quote.split()) + "”")
            evidence.append(facts.claims[0].evidence)
        full_marks = ind.score is not None and ind.max_score is not None and ind.score.value >= ind.max_score.value
        stated: Quantity | str = ind.actual
        if why and full_marks:
            # The finding is the full score as much as the actual: the stated cell shows both.
            stated = f"{written(ind.actual)}（得分{ind.score.text}）"  # type: ignore[union-attr]
        if why:
            message = "未达标，但" + "；".join(why)
        else:
            acknowledged = []
            if ind.score is not None and ind.max_score is not None:
                acknowledged.append(f"得分{ind.score.text}分低于分值{ind.max_score.text}分")
            if explained(ind):
                acknowledged.append("已说明原因")
            message = "未达标" + ("，" + "，".join(acknowledged) if acknowledged else "")
        yield make_flag(
            "TARGET",
            Severity.WARNING,
            f"指标“{ind.name}”目标{target}，实际完成{ind.actual.text}{ind.actual.unit}，{message}",
            stated,
            target,
            "",
            evidence,
            formula=formula,
            ok=not why,
        )
