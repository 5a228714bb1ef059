"""Products: an amount that is a count times a standard (资助3,264人，每人2,000元，共计652.80万元), and a
per-capita figure that is a total divided by a count (发放3.42亿元，领取人员9.83万人，人均3,479元)."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import MONEY, Num, between, folded, numbers, quantity, scale, sentences
from auditor.facts import Facts, ProductClaim

# What a standard is per: 每人/每户/每生 … and the count units that count it.
_PER = {
    "人": {"人", "名", "万人"},
    "生": {"人", "名", "万人"},
    "户": {"户", "万户"},
    "所": {"所"},
    "亩": {"亩", "万亩"},
}
_STANDARD = re.compile(
    r"每(?P<per>人|生|户|所|亩)(?:每年)?(?:补助|资助|发放|奖励)?(?:标准)?(?:为)?$|按每(?P<per2>人|生|户|所|亩)$"
)
_TOTAL = re.compile(r"共计|合计|总计|共|计|金额|资金")
_PER_CAPITA = re.compile(
    r"(?P<who>[\u4e00-\u9fff]{0,12}?)(?:人均|户均|生均|平均每人|平均每户)(?P<what>[\u4e00-\u9fff]{0,6})$"
)


@register("products.prose")
def prose_products(ctx: Context) -> Facts:
    """Count × standard = amount in one sentence; 人均 X = a total ÷ the count the sentence names."""
    out: list[ProductClaim] = []
    for p in ctx.paras:
        text = folded(p)
        nums = numbers(p)
        for a, b in sentences(p):
            sent = between(nums, a, b)
            out.extend(_count_times_standard(text, sent))
        out.extend(_per_capita(text, nums))
    return Facts(products=out)


def _count_times_standard(text: str, sent: list[Num]) -> list[ProductClaim]:
    out = []
    for s in sent:
        m = _STANDARD.search(text[s.label_start : s.i].strip())
        if m is None or s.unit not in MONEY or "月" in s.label:
            continue
        per = m.group("per") or m.group("per2")
        counts = [n for n in sent if n.unit in _PER[per] and n is not s]
        totals = [n for n in sent if n.unit in MONEY and n.i > s.i and _TOTAL.search(text[n.label_start : n.i])]
        if len(counts) != 1 or len(totals) != 1:
            continue
        count, total = counts[0], totals[0]
        factor = scale(s.unit) * scale(count.unit) / scale(total.unit)
        out.append(
            ProductClaim(
                label=total.label or "金额",
                amount=quantity(total),
                factors=[quantity(count), quantity(s)],
                scale=factor,
            )
        )
    return out


def _per_capita(text: str, nums: list[Num]) -> list[ProductClaim]:
    """人均 X元: a money total and a count of the same people stated before it in the paragraph."""
    out = []
    for idx, n in enumerate(nums):
        m = _PER_CAPITA.search(text[n.label_start : n.i].strip())
        if m is None or n.unit not in MONEY:
            continue
        who = m.group("who")
        before = nums[:idx]
        units = {"人", "万人", "名"} if "户" not in m.group() else {"户", "万户"}
        counts = [x for x in before if x.unit in units and (not who or _shares_words(who, x.label))]
        money = [x for x in before if x.unit in MONEY and not _PER_CAPITA.search(text[x.label_start : x.i].strip())]
        if not counts or not money or (not who and len(counts) > 1):
            continue
        count, total = counts[-1], money[-1]
        factor = scale(total.unit) / (scale(count.unit) * scale(n.unit))
        out.append(
            ProductClaim(
                label=m.group() or "人均",
                amount=quantity(n),
                factors=[quantity(total)],
                divisors=[quantity(count)],
                scale=factor,
            )
        )
    return out


def _shares_words(who: str, label: str) -> bool:
    """The count is of the people the per-capita figure speaks of: three characters of one in the other."""
    return any(who[i : i + 3] in label for i in range(max(1, len(who) - 2)))
