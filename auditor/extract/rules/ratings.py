"""Ratings: the total score, the grade word and the grade bands the report declares; claims that all was met."""

from __future__ import annotations

import re
from decimal import Decimal

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import NUM, folded, number
from auditor.extract.rules.scores import ProseNode, prose_items
from auditor.facts import Claim, Evidence, Facts, GradeBand, Rating
from auditor.layout import Para

_GRADE_WORDS = "优秀|优|良好|良|中等|中|合格|及格|差|不合格"
_RATING = re.compile(
    rf"(?:总体自评为|总体得分为?|综合得分为?|绩效(?:自评|评价)?总?得分为?|总得分为?|自评总分为?|(?<!评价)自评得分为?)"
    rf"\s*({NUM})\s*分"
    # A grade word in the same stretch of text, not one of a declared band ("90分以上为优" has digits).
    rf"(?:[，,。；]?\s*[^。\d]{{0,20}}?(?:自评为|评价为|等级为|评定为|为)\s*[“\"]?({_GRADE_WORDS})[”\"]?)?"
)
_BAND = re.compile(
    rf"({NUM})\s*(?:分)?\s*[（(]含[)）]\s*[-—–~至]\s*({NUM})\s*分\s*(?:\(含\)|（含）)?\s*为\s*[“\"]?({_GRADE_WORDS})"
)
_BAND_LOW = re.compile(rf"({NUM})\s*分以下为\s*[“\"]?({_GRADE_WORDS})")
_BAND_UP = re.compile(rf"({NUM})\s*分?\s*(?:[（(]含[)）])?\s*(?:及)?以上为\s*[“\"]?({_GRADE_WORDS})")
_RATING_GRADED = re.compile(
    rf"得分\s*为?\s*({NUM})\s*分[^。]{{0,20}}?(?:等级|评级|评定)(?:评定)?为\s*[“\"]?({_GRADE_WORDS})"
)
_GRADE_LATER = re.compile(rf"(?:等级|评级)(?:评定)?为\s*[“\"]?({_GRADE_WORDS})")
_CLAIM = re.compile(r"未偏离|无偏离|没有偏离|圆满完成|全面完成|全部完成|均已完成|均完成")


def _ratings(paras: list[Para], nodes: list[ProseNode]) -> list[Rating]:
    bands: list[GradeBand] = []
    for p in paras:
        text = folded(p)
        for m in _BAND.finditer(text):
            lo, hi = Decimal(m.group(1)), Decimal(m.group(2))
            bands.append(GradeBand(grade=m.group(3), low=lo, high=hi, low_inclusive=True, high_inclusive=hi >= 100))
        for m in _BAND_UP.finditer(text):
            bands.append(GradeBand(grade=m.group(2), low=Decimal(m.group(1)), high=Decimal(100), high_inclusive=True))
        for m in _BAND_LOW.finditer(text):
            bands.append(
                GradeBand(
                    grade=m.group(2), low=Decimal(0), high=Decimal(m.group(1)), low_inclusive=True, high_inclusive=False
                )
            )
    out: list[Rating] = []
    for p in paras:
        text = folded(p)
        for m in _RATING.finditer(text):
            sent_start = max((text.rfind(c, 0, m.start()) for c in "。；;"), default=-1) + 1
            context = text[sent_start : m.end(1)]
            if not re.search(r"总体|综合|绩效", context):
                continue
            s0, _ = p.doc_span(m.start(1), m.end(1))
            if any(
                pn.node.max_score
                and pn.node.max_score.evidence.start is not None
                and pn.node.max_score.evidence.start <= s0 < (pn.node.max_score.evidence.end or 0)
                for pn in nodes
            ):
                continue
            s, e = p.doc_span(max(m.start() - 6, 0), m.end(1) + 1)
            q = number(m.group(1), "分", s, e, "总分")
            grade_ev = None
            grade = m.group(2)
            if grade:
                gs, ge = p.doc_span(m.start(), m.end())
                grade_ev = Evidence(quote="", start=gs, end=ge)
            else:
                # The grade word may come sentences after the score, with the band definitions in between.
                later = _GRADE_LATER.search(text, m.end())
                if later is not None:
                    grade = later.group(1)
                    gs, ge = p.doc_span(later.start(), later.end())
                    grade_ev = Evidence(quote="", start=gs, end=ge)
            out.append(Rating(score=q, grade=grade, grade_evidence=grade_ev, bands=bands))
    if not out:
        # A score given a grade word (得分X分…等级为Y) is the total, whatever the score is called.
        for p in paras:
            text = folded(p)
            for m in _RATING_GRADED.finditer(text):
                s0, e0 = p.doc_span(m.start(1), m.end(1))
                gs, ge = p.doc_span(m.start(), m.end())
                q = number(m.group(1), "分", s0, e0, "总分")
                out.append(
                    Rating(score=q, grade=m.group(2), grade_evidence=Evidence(quote="", start=gs, end=ge), bands=bands)
                )
    return out


def _claims(paras: list[Para]) -> list[Claim]:
    out: list[Claim] = []
    for p in paras:
        text = folded(p)
        for m in _CLAIM.finditer(text):
            ctx = text[max(0, m.start() - 12) : m.end() + 8]
            if re.search(r"未能|没有|尚未|不能|无法|[未不没]$", text[max(0, m.start() - 3) : m.start()]):
                continue
            kind = "no_deviation" if "偏离" in m.group(0) else "all_met"
            if kind == "all_met" and not re.search(r"目标|任务|指标", ctx):
                continue
            clause = max((text.rfind(c, 0, m.start()) for c in "，,。；;："), default=-1) + 1
            s, e = p.doc_span(clause, m.end())
            out.append(Claim(kind=kind, evidence=Evidence(quote="", start=s, end=e)))
    return out


# ----------------------------------------------------------------------------- text statements


@register("ratings.prose")
def prose_ratings(ctx: Context) -> Facts:
    """The total score with its grade and bands (总体自评为, 综合得分, 自评总分 …)."""
    return Facts(ratings=_ratings(ctx.paras, prose_items(ctx)))


@register("ratings.claims")
def prose_claims(ctx: Context) -> Facts:
    """Sentences claiming every target was met (未偏离, 圆满完成, 全部完成)."""
    return Facts(claims=_claims(ctx.paras))
