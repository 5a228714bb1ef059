"""Sums: a total and its parts, from 其中 lists and 共计 sentences in prose and from 总额 header rows in tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.extract.rules import Context, register
from auditor.extract.rules.flows import table_money_unit
from auditor.extract.rules.scan import (
    MARKER,
    MONEY,
    NUM,
    UNIT,
    Num,
    between,
    cell_quantity,
    compatible,
    ending_by,
    family,
    folded,
    numbers,
    quantity,
    sentence_start,
    style,
)
from auditor.facts import Evidence, Facts, ItemCount, RatioClaim, SumClaim, in_common_unit
from auditor.layout import Para
from auditor.numbers import fold

# A part whose label says it is itself a total, a rate or a comparison ends the list of parts.
_STOP_PART = re.compile(r"共计|合计|总计|净|累计|结余|率|比例|占比|人均|超过|不少于|不低于|目标|达到|较|可用|可支配")


def _depth(text: str, a: int, b: int) -> int:
    """How many parentheses opened between a and b are still open at b."""
    seg = text[a:b]
    return max(0, seg.count("（") + seg.count("(") - seg.count("）") - seg.count(")"))


def _list_before_semicolon(text: str, total: Num, parts: list[Num]) -> list[Num]:
    """Cut a 其中 list at a ；when the parts before it already make the total and the rest do not fit.

    A ；may start a new subject after a complete list, or separate the parts of one list; the arithmetic
    tells which.
    """
    if not parts or len({p.unit for p in parts} | {total.unit}) != 1:
        return parts
    t = quantity(total).interval
    acc = quantity(parts[0]).interval.scale(0)
    for idx, p in enumerate(parts):
        acc = acc + quantity(p).interval
        nxt = parts[idx + 1] if idx + 1 < len(parts) else None
        if nxt is not None and re.search(r"[；;]", text[p.k : nxt.i]) and acc.intersects(t):
            return parts[: idx + 1]
    return parts


# What opens a list of parts after a total: 其中, 分别为, 包括, 主要用于, 来源为, or a colon before numbered items.
_OPENER = re.compile(
    r"其中[:：]?|分别为|分别是|分别有|具体为|具体是|包括[:：]?|主要用于(?:以下(?:几个)?方面)?[:：]?|用于[:：]"
    r"|(?:资金)?来源(?:为|是|包括)[:：]?|构成(?:为|是)[:：]?|主要有[:：]?"
    r"|[:：](?=\s*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十\d]+[、.．](?!\d)|[①-⑳]))|[:：]\s*$"
    r"|(?<=[\d万元人户个段km])\s*[:：]"
    # a list joined by 、 right after the total (资金100万元，甲镇60万元、乙镇40万元) or after 用于
    r"|(?<=[元人户个])\s*[,，]\s*(?:用于)?(?!\s*(?:其中|分别|包括|具体|主要|来源|构成))"
    r"(?=[^\d,，。；;、]{2,16}?\d[\d,.]*\s*\S{0,2}、)"
    r"|(?<![,，])用于(?=[^\d,，。；;、]{2,16}?\d[\d,.]*\s*\S{0,2}、)"
)
# Where one item of an enumeration ends and the next begins: a ；or a numbered marker.
_ENUMERATED = re.compile(
    r"[；;]|(?<=[,，、。])\s*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十\d]+[、.．](?!\d))"
)
# A list that says it names only some items (主要, 等) may leave others out.
_PARTIAL = re.compile(r"主要|部分|等$")
# A part's label that compares it with something (比上年, 增加) names a change, not a part.
_COMPARED = re.compile(r"比上年|较上年|同比|比20\d\d|较20\d\d|相比|增加|减少|增长|下降|降低|压减|提高|上升|超额|超")
_LEVELS = re.compile(r"[一二三四五]级")
# What stands between a part and its share: ，占X% / 占比X% / 占本年支出的X%.
_SHARE = re.compile(r"[\s,、]*(?:占比|占(?:[^\d,，。；;]{0,14}的)?)(?:为|达)?\s*")


@dataclass
class _List:
    total: Num
    parts: list[Num]
    shares: list[tuple[Num, Num]]  # (part, its 占X%)
    exhaustive: bool


@register("sums.prose")
def prose_sums(ctx: Context) -> Facts:
    """A total and the parts a list gives after it (其中, 分别为, 包括, 主要用于, numbered items), each unit
    family summed apart; parts followed by 共计/合计 and their total; each part's 占X% as a share of the total."""
    out: list[SumClaim] = []
    ratios: list[RatioClaim] = []
    for lst in _lists(ctx):
        if len(lst.parts) >= 2:
            out.append(
                SumClaim(
                    label=lst.total.label,
                    total=quantity(lst.total),
                    parts=[quantity(x) for x in lst.parts],
                    exhaustive=lst.exhaustive,
                )
            )
        for part, share in lst.shares:
            ratios.append(
                RatioClaim(
                    label=f"{part.label}占比",
                    rate=quantity(share),
                    numerator=[quantity(part)],
                    denominator=[quantity(lst.total)],
                )
            )
    for p in ctx.paras:
        text = folded(p)
        nums = numbers(p)
        for m in re.finditer(r"共计|合计|总计|共", text):
            k = m.start()
            after = [n for n in between(nums, m.end(), m.end() + 4) if n.unit and n.unit != "%"]
            if not after:
                continue
            total = after[0]
            sent_start = max(text.rfind("。", 0, k) + 1, 0)
            parts = [n for n in ending_by(nums, k, sent_start) if n.unit == total.unit]
            if parts and len(text[parts[-1].k : k].strip("，,、；; ")) > 0:
                continue
            # last year's balance carried in is a part of what is available (上年结余X，共计Y)
            if len(parts) >= 2 and not any(
                _STOP_PART.search(x.label) and not re.search(r"上年\S{0,2}结[余转]", x.label) for x in parts
            ):
                out.append(
                    SumClaim(
                        label=text[m.start() : total.i] or "共计",
                        total=quantity(total),
                        parts=[quantity(x) for x in parts],
                        exhaustive=True,
                    )
                )
    return Facts(sums=out, ratios=ratios)


@register("sums.header_row")
def header_row_sums(ctx: Context) -> Facts:
    """A header row naming a total and its parts (资金总额 | 财政拨款 | 其他资金) over a row of numbers."""
    out: list[SumClaim] = []
    for t in ctx.tables:
        unit = table_money_unit(t)
        for a, b in zip(t.rows, t.rows[1:], strict=False):
            ha = [re.sub(r"\s+", "", fold(x)) for x in a.texts]
            tot = next((i for i, x in enumerate(ha) if re.fullmatch(r".{0,4}(总额|合计|总计)", x)), None)
            if tot is None:
                continue
            part_cols = [i for i in range(tot + 1, len(ha)) if ha[i]]
            if not part_cols or tot >= len(b.cells):
                continue
            total = cell_quantity(b.cells[tot], ha[tot], a.cells[tot])
            if total is None:
                continue
            parts = []
            blank = []
            for i in part_cols:
                q = cell_quantity(b.cells[i], ha[i], a.cells[i]) if i < len(b.cells) else None
                if q is not None:
                    parts.append(q.model_copy(update={"unit": q.unit or total.unit}))
                else:
                    blank.append(ha[i])
            if parts:
                label = ha[tot] + ("（" + "、".join(blank) + "未填）" if blank else "")
                out.append(
                    SumClaim(
                        label=label,
                        total=total.model_copy(update={"unit": total.unit or unit}),
                        parts=[p.model_copy(update={"unit": p.unit or unit}) for p in parts],
                        exhaustive=True,
                    )
                )
    return Facts(sums=out)


def _lists(ctx: Context) -> Iterator[_List]:
    """Every list of parts in the Unit's prose, one per unit family of its total."""
    paras = ctx.paras
    for pi, p in enumerate(paras):
        text = folded(p)
        nums = numbers(p)
        for m in _OPENER.finditer(text):
            if m.group().startswith("其中") and text[max(0, m.start() - 1) : m.start()] in {"(", "（"}:
                end = _closing(text, m.start())
            else:
                end = _sentence_end(text, m.end())
                if m.group().startswith("其中") and _ENUMERATED.search(
                    text, text.rfind("。", 0, m.start()) + 1, m.start()
                ):
                    # inside an enumeration (…；2.医疗单位11个，其中…；3.…) it breaks down one item only
                    stop = _ENUMERATED.search(text, m.end(), end)
                    end = stop.start() if stop else end
            if not m.group().strip() or m.group().strip(" ,，") in {"", "用于"}:
                # a list joined by 、: it ends at the next comma, and its items are figures of the total's measure
                stop = re.search(r"[,，。；;]", text[m.end() : end])
                end = m.end() + stop.start() if stop else end
            bare_colon = (
                m.group().strip() in {":", "："}
                and bool(text[m.end() :].strip())
                and not MARKER.match(text[m.end() :].lstrip())
            )
            if bare_colon:
                semi = re.search(r"[；;:：]", text[m.end() : end])
                end = m.end() + semi.start() if semi else end  # X km：右岸A km，左岸B km；— one clause
            totals = _totals(text, nums, m.start(), paras[pi - 1] if pi > 0 else None)
            region = between(nums, m.end(), end)
            if not totals:
                yield from _by_role(text, nums, m, region)
            if bare_colon and totals and not any(compatible(n.unit, totals[0].unit) for n in region):
                continue  # a colon after a figure opens a breakdown only when a figure of its measure follows
            items = _items_after(paras, pi) if m.group().strip() in {":", "："} and end >= len(text.rstrip()) else []
            if not totals or not (region or items):
                continue
            lists = [
                x
                for total in totals
                if total.unit != "分"  # scores nest in a tree: the score readers' business
                for x in _read_list(text, total, region, m, end, items)
            ]
            # The same items counted and paid (64户、138.60万元，其中甲村27户、81.00万元…): when one measure's list
            # is whole and adds up, the items are all there, so the other measure's list is whole too.
            whole = [x for x in lists if x.exhaustive and len(x.parts) >= 2 and _holds(x)]
            for x in lists:
                if not x.exhaustive and any(len(w.parts) == len(x.parts) and w.total is not x.total for w in whole):
                    x.exhaustive = True
            yield from lists


# The role a figure plays in an item that carries several (应到位X，实际到位Y，支付Z).
_ROLES = ("实际到位", "应到位", "下达", "安排", "支付", "拨付")


def _role(label: str) -> str:
    return next((r for r in _ROLES if r in label), "")


def _by_role(text: str, nums: list[Num], m: re.Match[str], region: list[Num]) -> Iterator[_List]:
    """Totals in the sentence before an intro (分项目如下：①…), each named by its role (应到位, 实际到位): each adds
    up the items' figures of the same role."""
    sent_start = text.rfind("。", 0, m.start()) + 1
    intro = text[sent_start : m.start()]
    if sent_start == 0 or len(intro) > 12 or any(sent_start <= n.i < m.start() for n in nums):
        return
    before = text.rfind("。", 0, sent_start - 1) + 1
    totals = [n for n in between(nums, before, sent_start) if n.unit in MONEY and _role(n.label)]
    for total in totals:
        if sum(1 for t in totals if _role(t.label) == _role(total.label)) > 1:
            continue  # two totals of one role: which one the items make is not known
        parts = [n for n in region if compatible(n.unit, total.unit) and _role(n.label) == _role(total.label)]
        if len(parts) >= 2:
            yield _List(total, parts, [], True)


def _sentence_end(text: str, k: int) -> int:
    e = text.find("。", k)
    return len(text) if e < 0 else e


def _closing(text: str, k: int) -> int:
    close = re.search(r"[）)]", text[k:])
    return k + close.start() if close else len(text)


def _totals(text: str, nums: list[Num], k: int, prev: Para | None) -> list[Num]:
    """The totals a list opened at k breaks down: the quantities just before the opener in its sentence (the
    last of each unit family among those the opener follows closely), or the last of the sentence before
    when the opener starts a sentence (X万元。其中：…)."""
    sent_start = text.rfind("。", 0, k) + 1
    head = [n for n in ending_by(nums, k, sent_start) if _value(n)]
    if not head and not text[sent_start:k].strip(" ,:：") and sent_start > 0:
        # X万元。其中：… — the sentence before must hold one figure of the list's measure, or the total is unsure
        before = text.rfind("。", 0, sent_start - 1) + 1
        head = [n for n in ending_by(nums, sent_start - 1, before) if _value(n)]
        if head and len(text[head[-1].k : sent_start - 1].strip()) > 12:
            head = []
        if len([n for n in head if family(n.unit) == family(head[-1].unit)]) > 1:
            head = []
    elif not head and sent_start == 0 and prev is not None and not text[:k].strip(" ,:："):
        ptext = folded(prev).rstrip()
        pnums = [n for n in numbers(prev) if _value(n)]
        if pnums and len(ptext[pnums[-1].k :].strip("。 ")) <= 12:
            return [pnums[-1]]
        return []
    if not head:
        return []
    # The cluster of quantities right before the opener: 补助120人、资金60万元，其中…
    cluster = [head[-1]]
    for n in reversed(head[:-1]):
        if len(text[n.k : cluster[0].label_start].strip(" ,、，")) > 0 or len(text[cluster[0].k : k]) > 30:
            break
        cluster.insert(0, n)
    if len(text[cluster[-1].k : k].strip(" ,:：")) > 20:
        return []
    seen: set[str] = set()
    out = []
    for n in reversed(cluster):
        fam = family(n.unit)
        if fam not in seen:
            seen.add(fam)
            out.append(n)
    return out


def _value(n: Num) -> bool:
    """A stated amount or count, not a percentage and not a change (比上年增加A万元)."""
    return bool(n.unit) and n.unit != "%" and not _COMPARED.search(n.label)


def _items_after(paras: list[Para], pi: int) -> list[Num]:
    """The amount of each numbered item in the paragraphs after a colon (1. 2. / （一）（二）), the first
    quantity of each item outside parentheses."""
    out: list[Num] = []
    kind = None
    for q in paras[pi + 1 :]:
        m = MARKER.match(q.text)
        if m is None or (kind is not None and style(m.group("m")) != kind):
            break
        kind = style(m.group("m"))
        text = folded(q)
        first = next((n for n in numbers(q) if n.unit and n.unit != "%" and _depth(text, 0, n.i) == 0), None)
        if first is not None:
            out.append(first)
    return out


def _read_list(
    text: str, total: Num, region: list[Num], m: re.Match[str], end: int, items: list[Num]
) -> Iterator[_List]:
    parts: list[Num] = []
    shares: list[tuple[Num, Num]] = []
    nested: dict[int, list[Num]] = {}
    inner_stop = -1  # an inner 其中 breaks down the part before it: skip to the next ；
    closed_by: Num | None = None
    for n in region:
        if n.i < inner_stop:
            continue
        inner = text.rfind("其中", m.end(), n.i)
        if parts and inner > parts[-1].k:
            stop = re.search(r"[；;]|(?<=[,，、])\s*(?:[(（]?[一二三四五六七八九十\d]+[)）、.．])", text[inner:end])
            inner_stop = inner + stop.start() if stop else end
            if n.i < inner_stop:
                continue
        depth = _depth(text, m.end(), n.i)
        if depth > 0:
            if parts and compatible(n.unit, parts[-1].unit) and not re.search(r"含|包括", text[parts[-1].k : n.i]):
                nested.setdefault(len(parts) - 1, []).append(n)
            continue
        if n.unit == "%":
            if parts and _SHARE.fullmatch(text[parts[-1].k : n.i]):
                shares.append((parts[-1], n))
            continue
        if not n.unit or not compatible(n.unit, total.unit):
            continue  # another measure of the same items (3户、3台套), summed in its own list
        if _COMPARED.search(n.label):
            continue  # a change of the part, not a part
        if _STOP_PART.search(n.label):
            if re.search(r"合计|共计|总计|小计", n.label):
                closed_by = n  # the parts have their own total (三项支出合计X): they are a selection
            break
        parts.append(n)
    from_items = not parts and bool(items)
    if from_items:
        parts = [n for n in items if compatible(n.unit, total.unit)]
    parts = _list_before_semicolon(text, total, parts)
    parts = _first_parts_making_the_total(total, parts)
    if len(parts) >= 2 and all(_LEVELS.search(x.label) for x in parts):
        return  # levels of one hierarchy (一级、二级指标) are not parts of each other
    # a list running to the end of the text may have been cut there (the items after a colon are whole)
    cut = not from_items and end == len(text) and not re.search(r"[。；;）)]\s*$", text)
    partial = bool(_PARTIAL.search(m.group())) or bool(re.search(r"等[^\d,，。]{0,6}$", text[:end][-12:]))
    # Items past a ；may be the total's siblings rather than its parts (其中A…；B…): a shortfall is no finding.
    spans_semicolon = len(parts) >= 2 and bool(re.search(r"[；;]", text[parts[0].k : parts[-1].i]))
    exhaustive = (
        not cut
        and not partial
        and not spans_semicolon
        and closed_by is None
        # an item for the rest (其他机具) closes a list of any length; three or more kinds of a count may be
        # the main ones only, and a count far off its total was a selection
        and (total.unit in MONEY or len(parts) <= 2 or any(re.search(r"其[他它余]", x.label) for x in parts))
        and (total.unit in MONEY or _near(total, parts))
    )
    yield _List(total, parts, _shares_of(total, [(a, b) for a, b in shares if a in parts]), exhaustive)
    for idx, subs in nested.items():
        if idx < len(parts) and len(subs) >= 2:
            yield _List(parts[idx], subs, [], True)


def _first_parts_making_the_total(total: Num, parts: list[Num]) -> list[Num]:
    """A list stops where its first parts already make the total and the whole list does not: what follows
    is another matter (…，其中A 60万元、B 40万元，培训经费20万元)."""
    if len(parts) < 3 or len({family(x.unit) for x in parts} | {family(total.unit)}) != 1:
        return parts
    scaled = in_common_unit([quantity(total), *(quantity(x) for x in parts)])
    if scaled is None:
        return parts
    t, qs = scaled[0], scaled[1:]
    if t.intersects(sum(qs[1:], qs[0])):
        return parts
    acc = qs[0]
    for k in range(1, len(qs) - 1):
        acc = acc + qs[k]
        if acc.intersects(t):
            return parts[: k + 1]
    return parts


def _shares_of(total: Num, shares: list[tuple[Num, Num]]) -> list[tuple[Num, Num]]:
    """The 占X% of the parts, when they are shares of this total: at least two, and most of them hold (a
    share may be of a larger whole named earlier, 占本年支出的X%)."""
    if len(shares) < 2:
        return []
    held = 0
    for part, share in shares:
        scaled = in_common_unit([quantity(part), quantity(total)])
        if scaled is None or scaled[1].hi == 0:
            return []
        try:
            held += quantity(share).interval.intersects((scaled[0] / scaled[1]).scale(100))
        except ZeroDivisionError:
            return []
    return shares if 2 * held >= len(shares) else []


# A count, then the names of what it counts: 下设7个科室：A、B、C… / 差额拨款单位5个，分别为：A、B…
_COUNT_UNITS = {"个", "家", "所", "项", "名", "类", "条", "座", "处", "批", "支"}
_NAMES_OPENER = re.compile(r"(?:分别为|分别是|分别有|包括|即|为|有|是)?\s*[:：]|分别为|分别是|分别有")


@register("sums.named_items")
def named_items(ctx: Context) -> Facts:
    """A count followed by the names of the things it counts: as many names as the count says."""
    out: list[ItemCount] = []
    for p in ctx.paras:
        text = folded(p)
        nums = numbers(p)
        for m in _NAMES_OPENER.finditer(text):
            sent_start = text.rfind("。", 0, m.start()) + 1
            counts = [n for n in ending_by(nums, m.start(), sent_start) if n.unit in _COUNT_UNITS]
            if not counts and not text[sent_start : m.start()].strip():
                prev_start = text.rfind("。", 0, max(0, sent_start - 1)) + 1
                counts = [n for n in between(nums, prev_start, sent_start) if n.unit in _COUNT_UNITS]
            elif counts and len(text[counts[-1].k : m.start()]) > 16:
                counts = []
            if not counts:
                continue
            count = counts[-1]
            end = _sentence_end(text, m.end())
            region = text[m.end() : end]
            semi = re.search(r"[；;,，]", region)
            if semi and "、" in region[: semi.start()]:
                end = m.end() + semi.start()  # names joined by 、 end at the first ，or ；
                region = region[: semi.start()]
            items = [x.strip(" ,，") for x in re.split(r"[；;]" if re.search(r"[；;]", region) else r"、", region)]
            items = [x for x in items if x]
            if (
                len(items) < 2
                or re.search(r"等(?:\d|[一二三四五六七八九十]|$)", items[-1])
                or any(len(x) > 80 for x in items)
            ):
                continue  # an open list (…等12类), or not a list of names
            if re.search(r"[、]", region) and re.search(r"[；;]", region):
                continue  # names grouped in clauses: which separator counts is not known
            if any(re.search(rf"\d\s*{count.unit}", x) for x in items):
                continue  # items that carry counts of their own are parts to add (数量指标13项；…), not names
            a, b = p.doc_span(m.end(), end)
            out.append(
                ItemCount(
                    label=text[count.label_start : count.i]
                    + count.text
                    + count.unit
                    + text[count.k : m.start()].strip(" ,，"),
                    count=quantity(count),
                    items=items,
                    evidence=Evidence(quote="", start=a, end=b),
                )
            )
    return Facts(item_counts=out)


def _near(total: Num, parts: list[Num]) -> bool:
    """Counted parts within a tenth of their total: a slip if they miss it; further off, the 其中 picked the
    main kinds only (专业公共卫生机构1.4万个，其中疾控中心3387个、卫生监督所2936个)."""
    scaled = in_common_unit([quantity(total), *(quantity(x) for x in parts)])
    if scaled is None or not parts:
        return False
    whole = scaled[0].mid
    got = sum((x.mid for x in scaled[1:]), start=scaled[0].mid * 0)
    return whole != 0 and abs(got - whole) <= abs(whole) / 10


# "在X的基础上提高A，达到Y": the new figure is the old one plus the rise.
_ON_TOP = re.compile(
    rf"在(?:(?:19|20)\d\d\s*年)?[^,，。；;\d]{{0,16}}?(?P<x>{NUM})\s*(?P<ux>{UNIT})的基础上[^,，。；;\d]{{0,6}}?(?:新增|提高|增加|上调|增长)了?\s*"
    rf"(?P<a>{NUM})\s*(?P<ua>{UNIT})[^。；;\d]{{0,24}}?(?:达到|提高到|提高至|增至|增加到|为)[^,，。；;\d]{{0,8}}?"
    rf"(?P<y>{NUM})\s*(?P<uy>{UNIT})"
)


# "计划X，实际Y，超额Z": what was done is the plan and the excess.
_OVER_PLAN = re.compile(
    rf"计划[^\d,，。；;]{{0,8}}?(?P<x>{NUM})\s*(?P<ux>{UNIT})[,，]\s*实际[^\d,，。；;]{{0,8}}?(?P<y>{NUM})\s*(?P<uy>{UNIT})"
    rf"[,，]\s*(?:超额|超出|超过)(?:完成)?\s*(?P<a>{NUM})\s*(?P<ua>{UNIT})"
)


@register("sums.increments")
def increments(ctx: Context) -> Facts:
    """A figure raised by an amount to a new figure (在去年420元的基础上新增30元，达到450元): new = old + rise."""
    out: list[SumClaim] = []
    for p in ctx.paras:
        text = folded(p)
        nums = {n.i: n for n in numbers(p)}
        for m in [*_ON_TOP.finditer(text), *_OVER_PLAN.finditer(text)]:
            x, a, y = (nums.get(m.start(g)) for g in ("x", "a", "y"))
            if x is None or a is None or y is None or not (compatible(x.unit, a.unit) and compatible(x.unit, y.unit)):
                continue
            out.append(SumClaim(label=y.label or "调整后", total=quantity(y), parts=[quantity(x), quantity(a)]))
    return Facts(sums=out)


# The “三公” expenses every department reports: the total and its three items, stated across sentences.
_SANGONG_TOTAL = re.compile(r"三公")
_SANGONG_ITEMS = {
    "abroad": re.compile(r"因公出国[(（]?境?[)）]?(?:费|经费)"),
    "car": re.compile(r"公务用车购置及运行(?:维护)?费|公车购置及运行(?:维护)?费"),
    "host": re.compile(r"公务接待费"),
}
_CAR_PARTS = {
    "buy": re.compile(r"公务用车购置费|公车购置费"),
    "run": re.compile(r"公务用车运行(?:维护)?费|公车运行(?:维护)?费"),
}
_UP = re.compile(r"增加|增长|上升|提高")
_DOWN_WORD = re.compile(r"减少|下降|降低|压减|节约")


@register("sums.sangong")
def sangong(ctx: Context) -> Facts:
    """The “三公” total and its items (因公出国(境)费, 公务用车购置及运行费, 公务接待费), stated in separate
    sentences: the items add up to the total, the car costs to 购置 + 运行, and so do the changes on last year."""
    found: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    nums: dict[tuple[str, str], Num] = {}
    shares: dict[tuple[str, str], Num] = {}
    for p in ctx.paras:
        text = folded(p)
        pnums = numbers(p)
        for idx, n in enumerate(pnums):
            if n.unit not in MONEY:
                continue
            clause = re.sub(r"[“”\"\s]", "", text[sentence_start(text, n.i) : n.i])
            own = re.sub(r"[“”\"\s]", "", text[n.label_start : n.i])
            if (
                re.search(r"上年|去年|上一年|20\d\d年(?:度)?(?:的)?$", own)
                and not _UP.search(own)
                and not _DOWN_WORD.search(own)
            ):
                continue  # last year's figure
            role = "budget" if "预算" in own and "决算" not in own else "actual"
            sign = "+" if _UP.search(own) else "-" if _DOWN_WORD.search(own) else ""
            kind = "change" if sign else "value"
            item = next((k for k, pat in {**_SANGONG_ITEMS, **_CAR_PARTS}.items() if pat.search(own)), None)
            if "三公" in own:
                item = None  # …公车运行费（“三公”经费）决算总额: the total, named after its items
            if item is None and kind == "change":
                # 公务接待费支出决算X元，减少Y元: the change's item is named earlier in its clause group
                seg = text[sentence_start(text, n.i) : n.label_start]
                hits = [
                    (m.start(), k) for k, pat in {**_SANGONG_ITEMS, **_CAR_PARTS}.items() for m in pat.finditer(seg)
                ]
                item = max(hits)[1] if hits else None
            if (
                item is None
                and _SANGONG_TOTAL.search(clause)
                and ("三公" in own or not any(pat.search(own) for pat in _SANGONG_ITEMS.values()))
            ):
                item = "total"
            if item is None:
                continue
            key = (item, role, kind)
            found.setdefault(key, set()).add((n.text, sign))
            nums.setdefault((f"{item}|{role}|{kind}", n.text), n)
            nxt = pnums[idx + 1] if idx + 1 < len(pnums) else None
            if (
                kind == "value"
                and nxt is not None
                and nxt.unit == "%"
                and re.fullmatch(
                    r"[,，]?\s*占(?:总支出决算|三公经费|“?三公”?经费(?:支出)?(?:决算)?)?(?:的)?", text[n.k : nxt.i]
                )
            ):
                shares[(item, role)] = nxt
    out: list[SumClaim] = []
    ratios: list[RatioClaim] = []

    def one(item: str, role: str, kind: str) -> tuple[Num, str] | None:
        values = found.get((item, role, kind), set())
        if len(values) != 1:
            return None
        text, sign = next(iter(values))
        return nums[(f"{item}|{role}|{kind}", text)], sign

    for role in ("actual", "budget"):
        for kind in ("value", "change"):
            for whole, parts in (("total", ("abroad", "car", "host")), ("car", ("buy", "run"))):
                total = one(whole, role, kind)
                got = [x for x in (one(i, role, kind) for i in parts) if x is not None]
                if total is None or len(got) < 2:
                    continue
                signs = {s for _, s in got if _.value != 0} | ({total[1]} if total[0].value != 0 else set())
                if len(signs) > 1:
                    continue  # rises and falls together: not a plain sum of the amounts
                out.append(
                    SumClaim(
                        label=f"“三公”经费{total[0].label}" if whole == "total" else total[0].label,
                        total=quantity(total[0]),
                        parts=[quantity(x) for x, _ in got],
                        exhaustive=len(got) == len(parts),
                    )
                )
        total = one("total", role, "value")
        for item in ("abroad", "car", "host"):
            part, share = one(item, role, "value"), shares.get((item, role))
            if total is not None and part is not None and share is not None:
                ratios.append(
                    RatioClaim(
                        label=f"{part[0].label}占“三公”经费",
                        rate=quantity(share),
                        numerator=[quantity(part[0])],
                        denominator=[quantity(total[0])],
                    )
                )
    return Facts(sums=out, ratios=ratios)


def _holds(lst: _List) -> bool:
    scaled = in_common_unit([quantity(lst.total), *(quantity(x) for x in lst.parts)])
    return scaled is not None and scaled[0].intersects(sum(scaled[2:], scaled[1]))
