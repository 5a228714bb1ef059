"""Ratios: a percentage named as a rate or share, with the numerator and denominator its name points to."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import Num, numbers, quantity, sentences
from auditor.facts import Facts, RatioClaim
from auditor.layout import Para
from auditor.numbers import fold

# Labels that name the base of a rate (the target, the population, the income).
_DENOM = re.compile(r"常住人口|户籍人口|目标|任务|计划|应参保|总收入|收入")


def _named_amount(paras: list[Para], name: str, unit: str) -> Num | None:
    """The one number in the Unit whose label ends with `name` (a share 占X的 names its base that way)."""
    hits = [n for p in paras for n in numbers(p) if n.unit == unit and n.label.endswith(name)]
    values = {n.value for n in hits}
    return hits[0] if len(values) == 1 else None


def _by_stem(label: str, before: list[Num]) -> tuple[Num, Num] | None:
    """(numerator, denominator) when the rate's name (筛查率) names exactly one of two counts (完成…筛查)."""
    if len(before) != 2 or before[0].unit != before[1].unit:
        return None
    stem = re.sub(r"(率|比例|占比|比重)$", "", label)
    # The counted thing is named at the end of the rate's name (筛查率 ← 筛查) or at its start.
    for key in [stem[-size:] for size in (4, 3, 2) if len(stem) >= size] + [stem[:4]] * (len(stem) >= 6):
        hits = [x for x in before if key in x.label]
        if len(hits) == 1:
            num = hits[0]
            den = before[1] if num is before[0] else before[0]
            return num, den
    return None


def _claim(n: Num, num: list[Num], den: list[Num], complement: bool = False) -> RatioClaim:
    return RatioClaim(
        label=n.label,
        rate=quantity(n),
        numerator=[quantity(x) for x in num],
        denominator=[quantity(x) for x in den],
        complement=complement,
    )


@register("ratios.prose")
def prose_ratios(ctx: Context) -> Facts:
    """`…率/占/比例 x%` with its operands from the same sentence or the amounts its name points to."""
    paras = ctx.paras
    out: list[RatioClaim] = []
    for p in paras:
        text = fold(p.text)
        nums = numbers(p)
        for a, b in sentences(p):
            sent = [n for n in nums if a <= n.i < b]
            for idx, n in enumerate(sent):
                if re.match(r"\s*(?:以上|以下|左右|以内|及以上)", text[n.k : n.k + 4]):
                    continue  # a threshold (占比达到X%以上), not a computed ratio
                if n.unit != "%" or not re.search(
                    r"率|比例|占|比重", n.label + text[n.label_start - 4 : n.label_start]
                ):
                    continue
                before = [x for x in sent[:idx] if x.unit and x.unit != "%"]
                share = re.search(r"占(?!比)(.{1,12}?)的?$", n.label)
                if share and before:
                    subject = re.sub(r"^其中", "", n.label[: share.start()])
                    num_q = (_named_amount(paras, subject, before[-1].unit) if len(subject) >= 2 else None) or before[
                        -1
                    ]
                    den_q = _named_amount(paras, share.group(1), before[-1].unit) or next(
                        (x for x in before if re.search(r"合计|总计|共计|总数", x.label) and x is not num_q), None
                    )
                    if den_q is not None and (den_q.span is not num_q.span or den_q.i != num_q.i):
                        out.append(_claim(n, [num_q], [den_q]))
                    continue
                bad = [x for x in before if re.search(r"不合格|不达标|未达标|未通过", x.label)]
                if re.search(r"(?:合格|达标|通过)率$", n.label) and len(bad) == 1:
                    stem = re.sub(r"(?:合格|达标|通过)率$", "", n.label)[-2:]
                    pool = [
                        m
                        for q in paras
                        for m in numbers(q)
                        if m.unit == bad[0].unit
                        and stem
                        and stem in m.label
                        and "不" not in m.label
                        and not re.search(r"较|目标|任务", m.label)
                    ]
                    if len({m.value for m in pool}) == 1:
                        out.append(_claim(n, [bad[0]], [pool[0]], complement=True))
                        continue
                if len(before) < 2:
                    continue
                label = n.label
                if re.search(r"占比", label) and "其中" in text[a : n.i]:
                    k = text.rfind("其中", a, n.i)
                    tot = [x for x in before if x.k <= k]
                    part = [x for x in before if x.i > k]
                    if tot and len(part) == 1 and part[0].unit == tot[-1].unit:
                        out.append(_claim(n, [part[0]], [tot[-1]]))
                    continue
                if re.search(r"结余率", label):
                    num = [x for x in before if re.search(r"结余", x.label) and not re.search(r"累计", x.label)]
                    den = [x for x in before if re.search(r"收入", x.label)]
                    if len(num) >= 1 and len(den) == 1:
                        out.append(_claim(n, [num[-1]], [den[0]]))
                    continue
                units = {x.unit for x in before}
                if len(units) != 1 or units & {"分"}:
                    continue
                den = [x for x in before if _DENOM.search(x.label)]
                num = [x for x in before if not _DENOM.search(x.label)]
                stem_pair = _by_stem(label, before)
                if stem_pair is not None and not (len(den) == 1 and num):
                    out.append(_claim(n, [stem_pair[0]], [stem_pair[1]]))
                    continue
                if len(den) == 1 and num and re.search(r"完成|参保率|覆盖", label):
                    out.append(_claim(n, num, den))
    return Facts(ratios=out)
