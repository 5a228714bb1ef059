"""GRADE: the grade word against the score band the report declares (else 90/80/60)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from auditor.checks import register
from auditor.checks._common import make_flag
from auditor.facts import Facts, GradeBand
from auditor.flags import Flag, Severity

_CANON = {
    "优秀": "优",
    "优": "优",
    "良好": "良",
    "良": "良",
    "中等": "中",
    "中": "中",
    "合格": "中",
    "及格": "中",
    "差": "差",
    "不合格": "差",
}
DEFAULT_BANDS = [
    GradeBand(grade="优", low=Decimal(90), high=Decimal(100), high_inclusive=True),
    GradeBand(grade="良", low=Decimal(80), high=Decimal(90)),
    GradeBand(grade="中", low=Decimal(60), high=Decimal(80)),
    GradeBand(grade="差", low=Decimal(0), high=Decimal(60)),
]


def _in(band: GradeBand, v: Decimal) -> bool:
    lo_ok = v >= band.low if band.low_inclusive else v > band.low
    hi_ok = v <= band.high if band.high_inclusive else v < band.high
    return lo_ok and hi_ok


@register("GRADE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """The grade word (优/良/中/差) does not fit the score's band."""
    for r in facts.ratings:
        if not r.grade:
            continue
        bands = r.bands or DEFAULT_BANDS
        grade = _CANON.get(r.grade, r.grade)
        fits = [b for b in bands if _in(b, r.score.value)]
        if not fits:
            continue
        band = next((b for b in fits if _CANON.get(b.grade, b.grade) == grade), fits[0])
        ok = _CANON.get(band.grade, band.grade) == grade
        src = "报告所列" if r.bands else "默认（90/80/60）"
        yield make_flag(
            "GRADE",
            Severity.ERROR,
            f"总分{r.score.text}分评为“{r.grade}”，按{src}等级区间{band.low}–{band.high}分应为“{band.grade}”",
            r.score,
            band.grade,
            "",
            [r.grade_evidence, r.score.evidence],
            formula=f"{band.low} ≤ {r.score.text} {'≤' if band.high_inclusive else '<'} {band.high} → {band.grade}",
            ok=ok,
        )
