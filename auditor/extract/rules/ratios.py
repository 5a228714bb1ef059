"""Ratios: a percentage named as a rate or share, with the numerator and denominator its name points to."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import (
    Num,
    between,
    compatible,
    folded,
    numbers,
    per_unit,
    quantity,
    scale,
    sentence_end,
    sentence_start,
    sentences,
    subject_key,
)
from auditor.facts import Facts, RatioClaim
from auditor.layout import Para

# Labels that name the base of a rate (the target, the population, the income).
_DENOM = re.compile(r"常住人口|户籍人口|目标|任务|计划|应参保|总收入|收入")


def _named_amount(paras: list[Para], name: str, unit: str) -> Num | None:
    """The one number in the Unit whose label ends with `name` (a share 占X的 names its base that way)."""
    return per_unit(paras, _find_named_amount, name, unit)  # type: ignore[no-any-return]


def _find_named_amount(paras: list[Para], name: str, unit: str) -> Num | None:
    hits = [n for p in paras for n in numbers(p) if n.unit == unit and n.label.endswith(name)]
    values = {n.value for n in hits}
    return hits[0] if len(values) == 1 else None


def _named_total(paras: list[Para], name: str, part: Num) -> Num | None:
    """The whole a share names as a total (占资助资金总额X%): the largest amount whose label carries the
    name's stem, when it is larger than the part."""
    m = re.fullmatch(r"(.{2,10}?)(?:总额|总计|合计|总数|总量)", name)
    if m is None:
        return None
    best = per_unit(paras, _largest_named, subject_key(m.group(1)), part.unit)
    return best if best is not None and best.value * scale(best.unit) > part.value * scale(part.unit) else None


def _largest_named(paras: list[Para], stem: str, unit: str) -> Num | None:
    """The largest amount in a unit of `unit`'s measure whose label carries `stem`."""
    hits = [n for p in paras for n in numbers(p) if compatible(n.unit, unit) and stem and stem in subject_key(n.label)]
    return max(hits, key=lambda n: n.value * scale(n.unit), default=None)


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
        text = folded(p)
        nums = numbers(p)
        for a, b in sentences(p):
            sent = between(nums, a, b)
            for idx, n in enumerate(sent):
                if re.match(r"\s*(?:以上|以下|左右|以内|及以上|[—\-~～至到]\s*\d)", text[n.k : n.k + 4]):
                    continue  # a threshold (占比达到X%以上) or a range (80%—100%), not a computed ratio
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
                    den_q = (
                        _named_amount(paras, share.group(1), before[-1].unit)
                        or next(
                            (x for x in before if re.search(r"合计|总计|共计|总数", x.label) and x is not num_q), None
                        )
                        # a share right after its part (X万元，占资助资金总额Y%) may name its whole as a total
                        or (_named_total(paras, share.group(1), num_q) if not subject.strip(" ,") else None)
                    )
                    if den_q is not None and (den_q.span is not num_q.span or den_q.i != num_q.i):
                        out.append(_claim(n, [num_q], [den_q]))
                    continue
                bad = [x for x in before if re.search(r"不合格|不达标|未达标|未通过", x.label)]
                if re.search(r"(?:合格|达标|通过)率$", n.label) and len(bad) == 1:
                    stem = re.sub(r"(?:合格|达标|通过)率$", "", n.label)[-2:]
                    pool = per_unit(paras, _passed, bad[0].unit, stem)
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


# A rate named by what it counts: 到位率, 执行率, 完工率 … — the stem words its numerator's label carries.
_STEMS: dict[str, str] = {
    "到位": r"到位",
    "执行": r"执行|支出|使用|支付|拨付|决算",
    "支付": r"支付|拨付|支出",
    "拨付": r"拨付|下拨|拨付",
    "使用": r"使用|支出",
    "完工": r"完成|完工|竣工",
    "完成": r"完成|实际|实现",
    "兑付": r"兑付|发放",
    "发放": r"发放",
}
# Words that name the base of a rate: what should have been, the plan, the budget, the total.
_BASE = re.compile(r"应到位|应|计划|预算|任务|目标|下达|安排|合计|总额|总计|共计")
# Spending is what a rate counts, never its base.
_SPENDING = re.compile(r"支出|使用|支付|拨付|实际|完成")
_NAMED_RATE = re.compile(r"(?P<stem>到位|执行|支付|拨付|使用|完工|完成|兑付|发放)率(?:为|达到|达|是)?$")
# 完成预算的X% / 完成年度目标53户的X% / 超额完成任务X%
_OF_BASE = re.compile(r"完成(?:了)?(?:年初|全年|年度)?(?P<base>预算|计划|目标|任务)(?:数)?(?:的)?$")
_INLINE_BASE = re.compile(
    r"(?:完成(?:了)?(?:年初|全年|年度)?(?:预算|计划|目标|任务)(?:数)?|占[^\d,，。；;]{1,12}?)"
    r"\s*(?P<n>\d[\d,.]*)\s*\S{0,5}?的\s*$"
)
_EXCESS = re.compile(r"超(?:额完成)?(?:年度)?(?P<base>任务|计划|目标)(?:数)?$")


@register("ratios.rates")
def named_rates(ctx: Context) -> Facts:
    """`…率 x%`, 完成预算的x%, 超任务x%: the numerator its name points to and the base the sentence names."""
    from auditor.extract.rules.flows import para_flow
    from auditor.facts import FundFlow

    ratios: list[RatioClaim] = []
    flows: list[FundFlow] = []
    for p in ctx.paras:
        text = folded(p)
        nums = numbers(p)
        for a, b in sentences(p):
            sent = between(nums, a, b)
            for idx, n in enumerate(sent):
                if n.unit != "%" or re.match(
                    r"\s*(?:以上|以下|左右|以内|及以上|[—\-~～至到]\s*\d)", text[n.k : n.k + 4]
                ):
                    continue
                clause = text[n.label_start : n.i].strip()
                inline = _INLINE_BASE.search(text, max(a, n.i - 40), n.i)
                if inline and idx >= 2 and sent[idx - 1].i == inline.start("n"):
                    # 已竣工238户，完成年度目标245户的97.41%: the base written inside the phrase
                    done, target = sent[idx - 2], sent[idx - 1]
                    if compatible(done.unit, target.unit) and not _BASE.search(done.label):
                        ratios.append(
                            RatioClaim(
                                label=inline.group(),
                                rate=quantity(n),
                                numerator=[quantity(done)],
                                denominator=[quantity(target)],
                            )
                        )
                    continue
                named, of_base, excess = _NAMED_RATE.search(clause), _OF_BASE.search(clause), _EXCESS.search(clause)
                if not (named or of_base or excess):
                    continue
                # The operands stand in the rate's own item: after the last ；or 其中 before it.
                item = max(text.rfind("；", a, n.i), text.rfind(";", a, n.i), text.rfind("其中", a, n.i))
                pool = [
                    x
                    for x in sent[:idx]
                    if x.unit and x.unit != "%" and x.i > item and not re.search(r"比上年|较上年|增加|减少", x.label)
                ]
                if not pool:
                    if excess or of_base:
                        pair = _target_and_actual(ctx.paras, (excess or of_base).group("base"))  # type: ignore[union-attr]
                        if pair is not None:
                            ratios.append(
                                RatioClaim(
                                    label=clause,
                                    rate=quantity(n),
                                    numerator=[quantity(pair[1])],
                                    denominator=[quantity(pair[0])],
                                    excess=bool(excess),
                                )
                            )
                    continue
                if named:
                    stem = _STEMS[named.group("stem")]
                    nums_ = [x for x in pool if re.search(stem, x.label) and not _BASE.search(x.label)]
                    num = nums_[-1] if nums_ else None
                else:
                    # 完成目标的X%: what was done, the last figure that is not the target itself
                    done = [x for x in pool if not _BASE.search(x.label)]
                    num = done[-1] if done else None
                if num is None:
                    continue
                bases = [
                    x
                    for x in pool
                    if x is not num
                    and _BASE.search(x.label)
                    and not _SPENDING.search(x.label)
                    and compatible(x.unit, num.unit)
                ]
                if of_base or excess:
                    word = (of_base or excess).group("base")
                    bases = [x for x in bases if word in x.label or (word == "预算" and "预算" in x.label)] or bases
                if not bases:
                    # the fund's amount stated first (补助资金X万元，已使用Y万元，结余Z万元，执行率…)
                    others = [
                        x
                        for x in pool
                        if x.i < num.i and compatible(x.unit, num.unit) and not re.search(r"结余|结转|余额|未", x.label)
                    ]
                    bases = others if len(others) == 1 else []
                if not bases:
                    continue
                base = bases[-1] if not named else min(bases, key=lambda x: abs(x.i - num.i))
                rate = quantity(n)
                if named and named.group("stem") == "执行" and num.unit in {"万元", "元", "亿元"}:
                    known = para_flow(p, ctx.year).get("rate")
                    if known is not None and known.evidence.start == rate.evidence.start:
                        continue  # the paragraph's fund flow holds this rate: flows.prose checks it
                    flows.append(
                        FundFlow(name=clause or "执行率", budget=quantity(base), spent=quantity(num), rate=rate)
                    )
                else:
                    ratios.append(
                        RatioClaim(
                            label=clause,
                            rate=rate,
                            numerator=[quantity(num)],
                            denominator=[quantity(base)],
                            excess=bool(excess),
                        )
                    )
    return Facts(ratios=ratios, fund_flows=flows)


def _passed(paras: list[Para], unit: str, stem: str) -> list[Num]:
    """The counts in `unit` whose label names `stem` without a negation or a target (合格 of 不合格)."""
    return [
        m
        for q in paras
        for m in numbers(q)
        if m.unit == unit
        and stem
        and stem in m.label
        and "不" not in m.label
        and not re.search(r"较|目标|任务", m.label)
    ]


def _target_and_actual(paras: list[Para], word: str) -> tuple[Num, Num] | None:
    """The one target the report names (任务数为115户) and what its sentence says was done (实际完成264户), for
    a rate written apart from them (实际改造数超任务43%)."""
    return per_unit(paras, _find_target_and_actual, word)  # type: ignore[no-any-return]


def _find_target_and_actual(paras: list[Para], word: str) -> tuple[Num, Num] | None:
    targets = [
        n for p in paras for n in numbers(p) if n.unit and n.unit != "%" and word in n.label and "实际" not in n.label
    ]
    if len({(t.value, t.unit) for t in targets}) != 1:
        return None
    target = targets[0]
    text = folded(target.span)
    start, end = sentence_start(text, target.i), sentence_end(text, target.k)
    done = [
        n
        for n in numbers(target.span)
        if start <= n.i < end
        and n.i != target.i
        and compatible(n.unit, target.unit)
        and re.search(r"实际|完成", n.label)
    ]
    return (target, done[0]) if len(done) == 1 else None
