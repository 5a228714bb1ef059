"""The deterministic rules extractor: reads labels, units and table headers, not seed sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from auditor import layout
from auditor.extract import ExtractResult
from auditor.facts import (
    ChangeClaim,
    Claim,
    Evidence,
    Facts,
    FundFlow,
    FundMention,
    GradeBand,
    Indicator,
    Quantity,
    Rating,
    RatioClaim,
    ScoreNode,
    Statement,
    SumClaim,
    fund_kind,
)
from auditor.layout import Para, Row, Span, Table
from auditor.numbers import fold, parse
from auditor.units import Unit

NUM = r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?"
UNIT = (
    r"亿元|万元|元|%|％|万人次|人次|万人|人|家次|家|个月|个|次|项|条|份|分钟|小时|分|笔|例|期|场次|场|批|月|年"
    r"|工作日|万亩|亩|万吨|吨|公里|千米|平方米|立方米|辆|座|处|所|万户|户|批次|株|台|套|篇|件|宗|起"
    r"|天|日"
)
_NUM_UNIT = re.compile(rf"(?<![\d.])({NUM})\s*({UNIT})?")
_CLAUSE_DELIM = "，,。；;：:、！？\n"
_MONEY = {"亿元", "万元", "元"}


# ----------------------------------------------------------------------------- helpers


@dataclass
class Num:
    """A number found in a Span: its position, text, unit and the label before it."""

    span: Span
    i: int  # start of the number in span.text
    j: int  # end of the number (without unit)
    k: int  # end including unit
    text: str
    unit: str
    label: str
    label_start: int

    @property
    def value(self) -> Decimal:
        return parse(self.text)[0]  # type: ignore[index]


def _numbers(span: Span) -> list[Num]:
    text = fold(span.text)
    out: list[Num] = []
    prev_end = 0
    for m in _NUM_UNIT.finditer(text):
        i, j = m.span(1)
        # Skip digits glued to latin letters or inside identifiers such as 〔2025〕3号, DRG.
        if i > 0 and (text[i - 1].isascii() and text[i - 1].isalpha()):
            continue
        unit = m.group(2) or ""
        after = text[m.end() : m.end() + 2]
        if unit in {"年", "月", "日"}:
            # 2024年 / 12月 are dates, not quantities.
            prev_end = m.end()
            continue
        if after[:1] in {"号", "〕", "]", "】"} or text[i - 1 : i] in {"〔", "[", "第"}:
            prev_end = m.end()
            continue
        ls = max(prev_end, max((text.rfind(d, 0, i) + 1 for d in _CLAUSE_DELIM), default=0))
        label = re.sub(r"(?:为|是|约|了|达到|共计)+$", "", text[ls:i].strip()).strip()
        out.append(Num(span, i, j, m.end() if unit else j, text[i:j], unit.replace("％", "%"), label, ls))
        prev_end = m.end()
    return out


def _quantity(n: Num, label: str = "", quote_from: int | None = None) -> Quantity:
    qa = n.label_start if quote_from is None else quote_from
    start, end = n.span.doc_span(qa, n.k)
    return _number(n.text, n.unit, start, end, label or n.label)


def _number(text: str, unit: str, start: int, end: int, label: str) -> Quantity:
    """A Quantity for a number matched by a pattern, its evidence spanning document offsets [start, end)."""
    value, decimals = parse(text)  # type: ignore[misc]
    return Quantity(
        value=value,
        unit=unit,
        text=text,
        decimals=decimals,
        evidence=Evidence(quote="", start=start, end=end),
        label=label,
    )


def _cell_quantity(cell: Span, label: str, quote_from: Span | None = None, default_unit: str = "") -> Quantity | None:
    """A cell holding one number (optionally with unit or % sign); `default_unit` fills a bare number."""
    t = fold(cell.text).strip()
    m = re.fullmatch(rf"\s*({NUM})\s*({UNIT})?\s*", t)
    if not m:
        return None
    parsed = parse(m.group(1))
    if parsed is None:
        return None
    value, decimals = parsed
    start, end = cell.start, cell.end
    if quote_from is not None and quote_from.offs:
        start = min(start, quote_from.start)
    return Quantity(
        value=value,
        unit=(m.group(2) or default_unit).replace("％", "%"),
        text=m.group(1),
        decimals=decimals,
        evidence=Evidence(quote="", start=start, end=end),
        label=label,
    )


def _sentences(span: Span) -> list[tuple[int, int]]:
    text = span.text
    out, a = [], 0
    for m in re.finditer(r"[。！？!?]", text):
        out.append((a, m.end()))
        a = m.end()
    if a < len(text):
        out.append((a, len(text)))
    return out


# ----------------------------------------------------------------------------- fund flows

_FLOW_RULES: list[tuple[str, str]] = [
    (r"较|增加$|减少$|增长$|下降$|压减$|提高$|节约$|追加$", ""),
    (r"上年结转结余|上年结余", "prior_balance"),
    (r"滚存结余|年末结余总额", "closing_balance"),
    (r"上年结余", "prior_balance"),
    (r"累计结余|结余率|结余占", ""),
    (r"执行率", "rate"),
    (r"结转.{0,6}支出", "spent_carryover"),
    (r"(当年|本年).{0,8}支出", "spent_current"),
    (r"上年结转|结转至本年", "carryover"),
    (r"结转结余|结余|结转", "balance"),
    (r"支出预算|全年预算|预算总额|预算金额|预算资金", "budget"),
    (r"年初预算|预算收入|预算支出|预算数|非税|采购|一般性|人均", ""),
    (r"共计|合计|总计|可用资金|可支配资金", "available"),
    (r"支出|执行数|已支付|支付", "spent"),
    (r"下达|收入|到位|投入|拨付|安排", "allocated"),
]


def _flow_field(label: str, unit: str, in_list: bool) -> str:
    if unit == "%":
        return "rate" if re.search(r"执行率", label) and not re.search(r"采购|项目", label) else ""
    if unit not in _MONEY:
        return ""
    for pattern, fld in _FLOW_RULES:
        if re.search(pattern, label):
            if in_list and fld in {"spent", "allocated", "available", "budget"}:
                return ""
            if fld == "available" and re.search(r"支出|收入", label):
                return ""
            return fld
    return ""


def _other_year(text: str, a: int, n: Num, year: str) -> bool:
    """The number belongs to another year ("2022年该项目全年预算数为2,915.00万元", "上年支出")."""
    clause = text[max(a, text.rfind("，", 0, n.i) + 1 if "，" in text[a : n.i] else a) : n.i]
    years = set(re.findall(r"(20\d\d)\s*年", text[a : n.i]))
    if year and years and year not in years:
        return True
    return bool(re.search(r"上年|去年|上一年", clause)) and not re.search(r"上年结转|上年结余|结转至本年", clause)


def _para_flow(p: Para, year: str = "") -> dict[str, Quantity]:
    """The fund-flow fields one paragraph states; the parts of a 其中 list (up to its ；) are not."""
    found: dict[str, Quantity] = {}
    text = fold(p.text)
    nums = _numbers(p)
    for a, b in _sentences(p):
        for n in nums:
            if not (a <= n.i < b) or _other_year(text, a, n, year):
                continue
            k = text.rfind("其中", a, n.i)
            in_list = k >= 0 and not re.search(r"[；;]", text[k : n.i])
            fld = _flow_field(n.label, n.unit, in_list)
            if fld and fld not in found:
                found[fld] = _quantity(n)
    if "rate" in found and not ({"spent", "allocated", "budget", "spent_current"} & found.keys()):
        del found["rate"]  # a rate with no money beside it belongs to some other line
    # "本年收支结余…，加上年结转结余…，年末结转结余…": the year-end figure is the closing balance.
    this_year = "balance" in found and re.search(r"收支结余|本年结余|当年结余", found["balance"].label)
    if this_year and "closing_balance" not in found:
        for n in nums:
            if n.unit in _MONEY and re.search(r"年末.{0,4}结(?:转结)?余", n.label) and n.i > 0:
                found["closing_balance"] = _quantity(n)
                break
    return found


_BASE = {"budget", "allocated", "available", "carryover"}


def _complements(a: dict[str, Quantity], b: dict[str, Quantity]) -> bool:
    """One passage gives the budget, the other the spending, and the spending is of that budget's size."""
    base = next((a.get(k) or b.get(k) for k in ("available", "budget", "allocated") if a.get(k) or b.get(k)), None)
    spent = a.get("spent") or b.get("spent")
    if base is None or spent is None or (a.keys() & b.keys()):
        return False
    uses = {"spent", "rate"}
    if not ((uses & a.keys() and _BASE & b.keys()) or (uses & b.keys() and _BASE & a.keys())):
        return False
    if base.unit != spent.unit or base.value <= 0:
        return False
    return Decimal("0.05") <= spent.value / base.value <= Decimal("1.5")


def _flows(paras: list[Para], fund: str, year: str = "") -> list[FundFlow]:
    """Fund flows stated in prose.

    Passages about one fund are merged (the allocation in 一、 and the spending in 二、); a numbered
    item with its own money (1.产业发展项目安排…已支付…结余…) is a flow of its own; a passage that
    restates a field with another value starts a new flow.
    """
    flows: list[FundFlow] = []
    current: dict[str, Quantity] = {}
    last_idx = -10
    kind = fund_kind(fund)

    def close() -> None:
        if len(current) >= 2:
            flows.append(FundFlow(name=fund or "资金", **current))
        current.clear()

    for idx, p in enumerate(paras):
        found = _para_flow(p, year)
        if not found:
            continue
        mk = _MARKER.match(p.text)
        first = min(q.evidence.start or 0 for q in found.values()) - p.start
        lead = p.text[mk.end() : max(mk.end(), first)] if mk else ""
        if mk and _style(mk.group("m")) in {"d", "pd", "circ"} and len(found) >= 2 and len(lead) <= 20:
            item = re.sub(r"^\W*", "", _MARKER.sub("", p.text))[:20]
            flows.append(FundFlow(name=re.split(r"安排|资金|[，,。：:]", item)[0] or fund or "资金", **found))
            continue
        shared = any(k in current and current[k].value == v.value for k, v in found.items())
        conflict = any(k in current and current[k].value != v.value for k, v in found.items())
        same_fund = bool(kind) and fund_kind(p.text) == kind
        near = idx - last_idx <= 2
        if conflict or not (shared or near or same_fund or not current or _complements(current, found)):
            close()
        for k, v in found.items():
            current.setdefault(k, v)
        last_idx = idx
    close()
    return flows


# ----------------------------------------------------------------------------- sums, ratios, changes

_SAME_KIND = [_MONEY, {"人", "万人"}]


def _compatible(a: str, b: str) -> bool:
    return a == b or any(a in kind and b in kind for kind in _SAME_KIND)


_STOP_PART = re.compile(r"共计|合计|总计|净|累计|结余|率|比例|占比|人均|超过|不少于|不低于|目标|达到|较|可用|可支配")


def _list_before_semicolon(text: str, total: Num, parts: list[Num]) -> list[Num]:
    """Cut a 其中 list at a ；when the parts before it already make the total and the rest do not fit.

    "27.36万人，其中城市1.82万人，农村25.54万人；特困人员2.84万人…" lists a new subject after the ；,
    while "其中:数量指标13项;质量指标12项;满意度指标1项" uses ；between the parts themselves.
    """
    if not parts or len({p.unit for p in parts} | {total.unit}) != 1:
        return parts
    t = _quantity(total).interval
    acc = _quantity(parts[0]).interval.scale(0)
    for idx, p in enumerate(parts):
        acc = acc + _quantity(p).interval
        nxt = parts[idx + 1] if idx + 1 < len(parts) else None
        if nxt is not None and re.search(r"[；;]", text[p.k : nxt.i]) and acc.intersects(t):
            return parts[: idx + 1]
    return parts


def _sums(paras: list[Para]) -> list[SumClaim]:
    out: list[SumClaim] = []
    for p in paras:
        text = fold(p.text)
        nums = _numbers(p)
        for m in re.finditer(r"其中", text):
            k = m.start()
            before = [n for n in nums if n.k <= k and n.unit and n.unit != "%"]
            if not before:
                continue
            total = before[-1]
            if text[total.k : k].count("。") or len(text[total.k : k]) > 12:
                continue
            paren = text[k - 1 : k] in {"（", "("}
            end = len(text)
            if paren:
                close = re.search(r"[）)]", text[k:])
                end = k + close.start() if close else end
            else:
                stop = re.search(r"。|(?<=[；;]).{0,20}?其中", text[k + 2 :])
                end = k + 2 + stop.start() if stop else end
            parts = []
            for n in nums:
                if not (k < n.i < end):
                    continue
                if not _compatible(n.unit, total.unit):
                    if parts and n.unit:
                        break  # "…，涉及7个乡镇，…186公里…": the list has moved on to other things
                    continue
                if _STOP_PART.search(n.label):
                    break
                parts.append(n)
            parts = _list_before_semicolon(text, total, parts)
            if len(parts) >= 2:
                out.append(
                    SumClaim(
                        label=total.label,
                        total=_quantity(total),
                        parts=[_quantity(x) for x in parts],
                        exhaustive=True,
                    )
                )
        for m in re.finditer(r"共计|合计|总计|共", text):
            k = m.start()
            after = [n for n in nums if n.i >= m.end() and n.i - m.end() <= 3 and n.unit and n.unit != "%"]
            if not after:
                continue
            total = after[0]
            sent_start = max(text.rfind("。", 0, k) + 1, 0)
            parts = [n for n in nums if sent_start <= n.i and n.k <= k and n.unit == total.unit]
            if parts and len(text[parts[-1].k : k].strip("，,、；; ")) > 0:
                continue
            if len(parts) >= 2 and not any(_STOP_PART.search(x.label) for x in parts):
                out.append(
                    SumClaim(
                        label=text[m.start() : total.i] or "共计",
                        total=_quantity(total),
                        parts=[_quantity(x) for x in parts],
                        exhaustive=True,
                    )
                )
    return out


_DENOM = re.compile(r"常住人口|户籍人口|目标|任务|计划|应参保|总收入|收入")


def _named_amount(paras: list[Para], name: str, unit: str) -> Num | None:
    """The one number in the Unit whose label ends with `name` ("本年支出5,216.45万元")."""
    hits = [n for p in paras for n in _numbers(p) if n.unit == unit and n.label.endswith(name)]
    values = {n.value for n in hits}
    return hits[0] if len(values) == 1 else None


def _by_stem(label: str, before: list[Num]) -> tuple[Num, Num] | None:
    """(numerator, denominator) when the rate's name (筛查率) names exactly one of two counts (完成…筛查)."""
    if len(before) != 2 or before[0].unit != before[1].unit:
        return None
    stem = re.sub(r"(率|比例|占比|比重)$", "", label)
    # The counted thing is named at the end of the rate's name (筛查率 ← 筛查) or at its start (防雹保护覆盖率).
    for key in [stem[-size:] for size in (4, 3, 2) if len(stem) >= size] + [stem[:4]] * (len(stem) >= 6):
        hits = [x for x in before if key in x.label]
        if len(hits) == 1:
            num = hits[0]
            den = before[1] if num is before[0] else before[0]
            return num, den
    return None


def _ratios(paras: list[Para]) -> list[RatioClaim]:
    out: list[RatioClaim] = []
    for p in paras:
        text = fold(p.text)
        nums = _numbers(p)
        for a, b in _sentences(p):
            sent = [n for n in nums if a <= n.i < b]
            for idx, n in enumerate(sent):
                if re.match(r"\s*(?:以上|以下|左右|以内|及以上)", text[n.k : n.k + 4]):
                    continue  # "占比达到96%以上" is a threshold, not a computed ratio
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
                        out.append(
                            RatioClaim(
                                label=n.label,
                                rate=_quantity(n),
                                numerator=[_quantity(num_q)],
                                denominator=[_quantity(den_q)],
                            )
                        )
                    continue
                bad = [x for x in before if re.search(r"不合格|不达标|未达标|未通过", x.label)]
                if re.search(r"(?:合格|达标|通过)率$", n.label) and len(bad) == 1:
                    stem = re.sub(r"(?:合格|达标|通过)率$", "", n.label)[-2:]
                    pool = [
                        m
                        for q in paras
                        for m in _numbers(q)
                        if m.unit == bad[0].unit
                        and stem
                        and stem in m.label
                        and "不" not in m.label
                        and not re.search(r"较|目标|任务", m.label)
                    ]
                    if len({m.value for m in pool}) == 1:
                        out.append(
                            RatioClaim(
                                label=n.label,
                                rate=_quantity(n),
                                numerator=[_quantity(bad[0])],
                                denominator=[_quantity(pool[0])],
                                complement=True,
                            )
                        )
                        continue
                if len(before) < 2:
                    continue
                label = n.label
                if re.search(r"占比", label) and "其中" in text[a : n.i]:
                    k = text.rfind("其中", a, n.i)
                    tot = [x for x in before if x.k <= k]
                    part = [x for x in before if x.i > k]
                    if tot and len(part) == 1 and part[0].unit == tot[-1].unit:
                        out.append(
                            RatioClaim(
                                label=label,
                                rate=_quantity(n),
                                numerator=[_quantity(part[0])],
                                denominator=[_quantity(tot[-1])],
                            )
                        )
                    continue
                if re.search(r"结余率", label):
                    num = [x for x in before if re.search(r"结余", x.label) and not re.search(r"累计", x.label)]
                    den = [x for x in before if re.search(r"收入", x.label)]
                    if len(num) >= 1 and len(den) == 1:
                        out.append(
                            RatioClaim(
                                label=label,
                                rate=_quantity(n),
                                numerator=[_quantity(num[-1])],
                                denominator=[_quantity(den[0])],
                            )
                        )
                    continue
                units = {x.unit for x in before}
                if len(units) != 1 or units & {"分"}:
                    continue
                den = [x for x in before if _DENOM.search(x.label)]
                num = [x for x in before if not _DENOM.search(x.label)]
                stem_pair = _by_stem(label, before)
                if stem_pair is not None and not (len(den) == 1 and num):
                    out.append(
                        RatioClaim(
                            label=label,
                            rate=_quantity(n),
                            numerator=[_quantity(stem_pair[0])],
                            denominator=[_quantity(stem_pair[1])],
                        )
                    )
                    continue
                if len(den) == 1 and num and re.search(r"完成|参保率|覆盖", label):
                    out.append(
                        RatioClaim(
                            label=label,
                            rate=_quantity(n),
                            numerator=[_quantity(x) for x in num],
                            denominator=[_quantity(den[0])],
                        )
                    )
    return out


_CU = r"[^\d\s，,。；;较]{0,8}?"
_CHANGE = re.compile(
    rf"(?<![\d.])({NUM})\s*({_CU})\s*[，,]?\s*较(?:上年|去年|上年度|同期|上一年)?(?:的)?\s*({NUM})\s*({_CU})\s*"
    rf"(?:实现)?(压减|减少|下降|降低|增加|增长|提高|上升)了?\s*({NUM})\s*(%|{_CU})"
)


_CHANGE_REF = re.compile(
    rf"(?P<label>[\u4e00-\u9fa5]{{2,12}}?)较(?:上年|去年|上年度|同期|上一年)(?:的)?\s*(?P<b>{NUM})\s*(?P<u>{_CU})\s*"
    rf"(?:实现)?(?P<verb>压减|减少|下降|降低|增加|增长|提高|上升)了?\s*(?P<c>{NUM})\s*[%％]"
)


_CHANGE_YEARS = re.compile(
    rf"(?<![\d.])(?P<a>{NUM})\s*(?P<ua>{_CU})\s*[，,]\s*(?:20\d\d\s*年|上年|去年)(?:为|是)?\s*(?P<b>{NUM})\s*(?P<ub>{_CU})"
    rf"\s*[，,]\s*(?:较上年|同比|比上年)?(?P<verb>压减|减少|下降|降低|增加|增长|提高|上升)了?\s*(?P<c>{NUM})\s*[%％]"
)


def _changes_stated_apart(paras: list[Para]) -> list[ChangeClaim]:
    """ "2024年…2,160万元，2023年为1,845万元，较上年增长12.6%": both values, then the change."""
    out: list[ChangeClaim] = []
    for p in paras:
        text = fold(p.text)
        for m in _CHANGE_YEARS.finditer(text):
            if m.group("ua") != m.group("ub") or re.match(r"[年月日]", m.group("ua")):
                continue
            s0, e0 = p.doc_span(m.start(), m.end())
            out.append(
                ChangeClaim(
                    label=m.group("verb"),
                    before=_number(m.group("b"), m.group("ub"), s0, e0, "上年"),
                    after=_number(m.group("a"), m.group("ua"), s0, e0, "本年"),
                    change=_number(m.group("c"), "%", s0, e0, m.group("verb")),
                    direction=-1 if m.group("verb") in {"压减", "减少", "下降", "降低"} else 1,
                    relative=True,
                )
            )
    return out


def _changes_by_reference(paras: list[Para], taken: set[tuple[int, int]]) -> list[ChangeClaim]:
    """ "当年下达资金较上年1,108.00万元增长11.36%": this year's value is the one stated under that name."""
    out: list[ChangeClaim] = []
    for p in paras:
        text = fold(p.text)
        for m in _CHANGE_REF.finditer(text):
            if (p.start, m.start("b")) in taken:
                continue
            name = re.sub(r"(?:资金|经费|金额|总额)$", "", m.group("label"))
            if len(name) < 2:
                continue
            nums = [n for q in paras for n in _numbers(q) if n.label.endswith(name) and n.unit == m.group("u")]
            if len({n.value for n in nums}) != 1:
                continue
            bv, bd = parse(m.group("b"))  # type: ignore[misc]
            cv, cd = parse(m.group("c"))  # type: ignore[misc]
            s0, e0 = p.doc_span(m.start(), m.end())
            ev = Evidence(quote="", start=s0, end=e0)
            out.append(
                ChangeClaim(
                    label=m.group("label"),
                    before=Quantity(
                        value=bv, unit=m.group("u"), text=m.group("b"), decimals=bd, evidence=ev, label="上年"
                    ),
                    after=_quantity(nums[0]),
                    change=Quantity(
                        value=cv, unit="%", text=m.group("c"), decimals=cd, evidence=ev, label=m.group("verb")
                    ),
                    direction=-1 if m.group("verb") in {"压减", "减少", "下降", "降低"} else 1,
                    relative=True,
                )
            )
    return out


def _changes(paras: list[Para]) -> list[ChangeClaim]:
    out: list[ChangeClaim] = []
    taken: set[tuple[int, int]] = set()
    for p in paras:
        text = fold(p.text)
        for m in _CHANGE.finditer(text):
            taken.add((p.start, m.start(3)))
            after_t, before_t, verb, chg_t = m.group(1), m.group(3), m.group(5), m.group(6)
            chg_u = (m.group(7) or "").replace("％", "%")
            ua, ub = m.group(2) or "", m.group(4) or ""
            if (ua and ub and ua != ub) or re.match(r"[年月日]", ua or ub):
                continue  # two different measures, or years compared, not a change of one quantity
            unit = (ua or ub).replace("％", "%")
            if chg_u and chg_u not in {"%", "％"} and chg_u != unit:
                continue
            direction = -1 if verb in {"压减", "减少", "下降", "降低"} else 1
            start, end = p.doc_span(m.start(), m.end())
            ev = Evidence(quote="", start=start, end=end)

            def q(t: str, u: str, label: str, ev: Evidence = ev) -> Quantity:
                v, d = parse(t)  # type: ignore[misc]
                return Quantity(value=v, unit=u, text=t, decimals=d, evidence=ev, label=label)

            ls = max(text.rfind(c, 0, m.start()) for c in "，。；：")
            label = text[ls + 1 : m.start()].strip()
            out.append(
                ChangeClaim(
                    label=label,
                    before=q(before_t, unit, "上年"),
                    after=q(after_t, unit, "本年"),
                    change=q(chg_t, chg_u, verb),
                    direction=direction,
                    relative=chg_u == "%",
                )
            )
    return out + _changes_by_reference(paras, taken) + _changes_stated_apart(paras)


# ----------------------------------------------------------------------------- score trees in prose

_MAX_KW = r"满分|总分|指标分值|分值|权重分|权重|指标共|共"
_SCORE_KW = r"自评得分|自评|实得|评价得分|评价得|得分|得"
_NODE = re.compile(
    rf"(?:(?P<mk>{_MAX_KW})\s*[:：]?\s*(?P<max>{NUM})\s*分|[（(]\s*(?P<max2>{NUM})\s*分\s*[)）])"
    rf"(?:\s*[，,、;；]?\s*(?:(?P<sk>{_SCORE_KW})\s*(?:为)?\s*(?P<score>{NUM})\s*分|(?P<na>本项(?:目)?不扣分)))?"
)
_NA_LATER = re.compile(r"本项(?:目)?不扣分|不适用")
# "预算执行率指标分值8分，截至年底支出进度85.03%，…，得分6.8分": the score closes the same clause chain.
_SCORE_LATER = re.compile(rf"^[^。；;]*?(?:{_SCORE_KW})\s*(?:为)?\s*({NUM})\s*分")
# Only a deduction that names no other item ("，扣2.5分", not "；管理制度健全性扣1分") is this item's.
_DEDUCT_LATER = re.compile(rf"(?:^|[，,。；;])\s*(?:因此|故|共|合计)?扣(?:除)?\s*({NUM})\s*分")
_MARKER = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?\s*(?P<m>[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+\s*[、.．](?!\d)"
    r"|[（(]\d+[)）]|[①②③④⑤⑥⑦⑧⑨⑩]|——|—)"
)


def _style(marker: str) -> str:
    if re.match(r"[一二三四五六七八九十]+[、.．]", marker):
        return "cn"
    if re.match(r"[（(][一二三四五六七八九十]+", marker):
        return "pcn"
    if re.match(r"\d", marker):
        return "d"
    if re.match(r"[（(]\d", marker):
        return "pd"
    if marker in "①②③④⑤⑥⑦⑧⑨⑩":
        return "circ"
    return "dash"


def _clean_name(name: str) -> str:
    name = re.sub(r"^[\s#*]+|[\s*]+$", "", name)
    name = _MARKER.sub("", name)
    name = re.sub(r"[\s*]+", "", name)
    name = re.sub(r"[（(：:，,。—-]+$", "", name)
    name = re.sub(r"(情况分析|分析|情况)$", "", name)
    return name.strip("（(：:，,。—- ")


@dataclass
class _ProseNode:
    node: ScoreNode
    style: str
    pos: int


def _prose_nodes(paras: list[Para]) -> list[_ProseNode]:
    out: list[_ProseNode] = []
    for p in paras:
        text = fold(p.text)
        matches = list(_NODE.finditer(text))
        for k, m in enumerate(matches):
            tail = text[m.end() : matches[k + 1].start() if k + 1 < len(matches) else len(text)]
            later_na = later_score = None
            if not m.group("score") and not m.group("na"):
                # A weight whose score comes later: "（满分2分）。…我局不适用，本项不扣分。"
                later_score = _SCORE_LATER.search(tail)
                if m.group("mk") not in {"满分", "总分", "分值", "指标分值"}:
                    # "满意度指标（10分）：…满意度为91.25%，得8分": a bare (10分) needs its score in the clause.
                    if not (m.group("max2") and later_score is not None and re.match(r"\s*[：:]", tail)):
                        continue
                else:
                    later_na = _NA_LATER.search(tail)
                if later_na is None and later_score is None:
                    continue
            # The name is the clause before the weight; an empty clause means "the heading before".
            clause_start = max((text.rfind(c, 0, m.start()) for c in "。；;，,：:"), default=-1) + 1
            name_part = text[clause_start : m.start()]
            if re.fullmatch(
                r"[\s（(]*|[\s（(]*(?:该项|本项|此项|该部分|本部分|该|本|此)(?:指标|项目)?[\s（(]*", name_part
            ):
                # walk back to the nearest clause that opens with a numbering marker
                pos, name_part = clause_start - 1, ""
                for _ in range(4):
                    if pos <= 0:
                        break
                    prev = max((text.rfind(c, 0, pos) for c in "。；;：:"), default=-1) + 1
                    cand = text[prev:pos]
                    if _MARKER.match(cand) or prev == 0:
                        name_part = cand
                        clause_start = prev
                        break
                    pos = prev - 1
            mk = _MARKER.match(text[clause_start:])
            style = _style(mk.group("m")) if mk else "none"
            if style == "none" and k > 0 and "其中" in text[matches[0].end() : m.start()]:
                style = "qz"  # "效益指标分值30分，得分27.5分。其中：经济效益分值12分，得分11分；…"
            name = _clean_name(name_part)
            if m.group("mk") == "共" and not name_part.rstrip().endswith("指标"):
                continue
            if not name:
                continue
            max_t = m.group("max") or m.group("max2")
            vm, dm = parse(max_t)  # type: ignore[misc]
            s0, e0 = p.doc_span(clause_start, m.end())
            ev = Evidence(quote="", start=s0, end=e0)
            max_q = Quantity(value=vm, unit="分", text=max_t, decimals=dm, evidence=ev, label="分值")
            if later_score is not None and later_na is None:
                vs, ds = parse(later_score.group(1))  # type: ignore[misc]
                ls0, le0 = p.doc_span(m.end() + later_score.start(), m.end() + later_score.end())
                score_q = _number(later_score.group(1), "分", ls0, le0, "得分")
                na = False
            elif m.group("na") or later_na is not None:
                score_q = Quantity(value=vm, unit="分", text=max_t, decimals=dm, evidence=ev, label="本项不扣分")
                na = True
            else:
                vs, ds = parse(m.group("score"))  # type: ignore[misc]
                score_q = Quantity(value=vs, unit="分", text=m.group("score"), decimals=ds, evidence=ev, label="得分")
                na = False
            deduction = None
            found_d = list(_DEDUCT_LATER.finditer(tail))
            # Several deductions for one item ("扣1分 … 扣0.5分") have a total no sentence writes: leave it.
            d = found_d[0] if len(found_d) == 1 else None
            if d is not None:
                ds0, de0 = p.doc_span(m.end() + d.start(), m.end() + d.end())
                deduction = _number(d.group(1), "分", ds0, de0, "扣分")
            out.append(
                _ProseNode(
                    ScoreNode(
                        name=name,
                        max_score=max_q,
                        score=score_q,
                        deduction=deduction,
                        not_applicable=na,
                        source="prose",
                    ),
                    style,
                    s0,
                )
            )
    return out


def _full(node: ScoreNode) -> bool:
    """True when the children's weights already add up to the node's weight."""
    if not node.children or node.max_score is None:
        return False
    kids = [c.max_score.value for c in node.children if c.max_score is not None]
    return len(kids) == len(node.children) and sum(kids) == node.max_score.value


def _bigger(node: ScoreNode, parent: ScoreNode) -> bool:
    """A child never weighs more than its parent."""
    return node.max_score is not None and parent.max_score is not None and node.max_score.value > parent.max_score.value


def _room(node: ScoreNode, child: ScoreNode) -> bool:
    if node.max_score is None or child.max_score is None:
        return False
    used = sum((c.max_score.value for c in node.children if c.max_score is not None), Decimal(0))
    return used + child.max_score.value <= node.max_score.value


def build_tree(items: list[_ProseNode]) -> list[ScoreNode]:
    """Nest prose score items by numbering style; the weights settle what the numbering leaves open.

    Reports mix numbering styles ("（3）" under "2." when it means "3."), so a parent whose
    children already fill its weight takes no more children, and an unfilled parent keeps a
    same-styled follower that fits inside it.
    """
    roots: list[ScoreNode] = []
    stack: list[tuple[ScoreNode, str]] = []
    for item in items:
        node, style = item.node, item.style
        styles = [s for _, s in stack]
        if style in styles:
            idx = len(styles) - 1 - styles[::-1].index(style)
            same = stack[idx][0]
            if same.children and not _full(same) and _room(same, node) and style != "none":
                del stack[idx + 1 :]
            else:
                del stack[idx:]
        while stack and (_full(stack[-1][0]) or _bigger(node, stack[-1][0])):
            stack.pop()
        node.level = len(stack) + 1
        (stack[-1][0].children if stack else roots).append(node)
        stack.append((node, style))
    return roots


# ----------------------------------------------------------------------------- tables

_LEVEL_HDR = {"一级指标": 1, "二级指标": 2, "三级指标": 3}


def _is_header(texts: list[str]) -> bool:
    joined = "".join(texts)
    return bool(re.search(r"[一二三]级指标", joined)) and any(re.search(r"分值|权重|得分", t) for t in texts)


def _inline_max(text: str) -> tuple[str, str | None]:
    m = re.search(rf"[（(]\s*({NUM})\s*分\s*[)）]\s*$", fold(text))
    if not m:
        return text, None
    return text[: m.start()].strip(), m.group(1)


def _leaves(nodes: list[ScoreNode]) -> list[ScoreNode]:
    out: list[ScoreNode] = []
    for n in nodes:
        out.extend(_leaves(n.children) if n.children else [n])
    return out


def _total_sums(
    label: str, total_max: Quantity | None, total_score: Quantity | None, groups: list[ScoreNode]
) -> list[SumClaim]:
    """A 合计 row against the leaves of the first-level items its table listed."""
    out: list[SumClaim] = []
    for total, what in ((total_max, "max_score"), (total_score, "score")):
        # Each group counts with its own stated figure (a 小计) when it has one, else with its items'.
        parts = [
            q
            for g in groups
            for q in ([getattr(g, what)] if getattr(g, what) else [getattr(leaf, what) for leaf in _leaves([g])])
        ]
        if total is not None and len(parts) >= 2 and all(q is not None for q in parts):
            name = "分值" if what == "max_score" else "得分"
            out.append(SumClaim(label=f"评分表{label}{name}", total=total, parts=parts, exhaustive=True))
    return out


def _score_tables(tables: list[Table]) -> tuple[list[ScoreNode], list[SumClaim]]:
    """Score trees from tables with 一级/二级/三级指标 columns; also their 合计 rows as sums."""
    roots: list[ScoreNode] = []
    totals: list[SumClaim] = []
    for t in tables:
        roles: list[str] | None = None
        prev_hdr: list[str] | None = None
        fill: dict[int, ScoreNode] = {}
        groups: list[ScoreNode] = []  # first-level items this table lists, for its 合计 row
        indicator_style = False
        for r in t.rows:
            texts = [fold(x) for x in r.texts]
            if _is_header(texts):
                roles = _roles(texts, prev_hdr)
                prev_hdr = texts
                # In a 自评表 with 指标值 columns the 总分 row also counts 预算执行率 etc. stated elsewhere.
                indicator_style = any("指标值" in x for x in texts)
                continue
            prev_hdr = texts if roles is None else prev_hdr
            if roles is None:
                continue
            cells = list(r.cells)
            first = next((i for i, x in enumerate(texts) if x.strip()), None)
            if first is None:
                continue
            if texts[first].strip() in {"合计", "总计", "总分"}:
                cells = cells[first:]
                row = {roles[i]: cells[i] for i in range(min(len(roles), len(cells)))}
                mx = [c for role, c in row.items() if role.startswith("max")]
                mq = _cell_quantity(mx[0], "合计分值", cells[0], default_unit="分") if mx else None
                sq = _cell_quantity(row["score"], "合计得分", cells[0], default_unit="分") if "score" in row else None
                if not indicator_style:
                    totals.extend(_total_sums(texts[first].strip(), mq, sq, groups))
                groups = []
                continue
            row = {roles[i]: cells[i] for i in range(min(len(roles), len(cells)))}
            sub = next((roles[i] for i in range(min(len(roles), len(texts))) if texts[i].strip() == "小计"), None)
            if sub is not None:
                # "小计" in the 二级 column sums the 一级 group above it: it states that group's weight and score.
                parent = fill.get(int(sub[1]) - 1) if sub.startswith("L") and sub[1:].isdigit() else None
                if parent is not None:
                    if parent.max_score is None and "max" in row:
                        parent.max_score = _cell_quantity(row["max"], "小计分值", cells[first], default_unit="分")
                    if parent.score is None and "score" in row:
                        parent.score = _cell_quantity(row["score"], "小计得分", cells[first], default_unit="分")
                continue
            path: list[ScoreNode] = []
            for level in (1, 2, 3):
                key = f"L{level}"
                if key not in row:
                    continue
                raw = row[key].text.strip()
                if raw in {"—", "-", "－", "/", "／", "无", "——"}:
                    # "产出	—	35	32": the row states its first-level item's own weight and score.
                    for deeper in range(level, 4):
                        fill.pop(deeper, None)
                    break
                if not raw:
                    node = fill.get(level)
                    if node is None:
                        continue
                    path.append(node)
                    continue
                name, inline = _inline_max(raw)
                name = re.sub(r"\s+", "", name)
                parent_list = path[-1].children if path else roots
                node = next((c for c in parent_list if c.name == name), None)
                if node is None:
                    node = ScoreNode(name=name, level=level, source="table")
                    parent_list.append(node)
                if inline and node.max_score is None:
                    node.max_score = _number(inline, "分", row[key].start, row[key].end, "分值")
                mk = f"max{level}"
                if mk in row and node.max_score is None:
                    node.max_score = _cell_quantity(row[mk], "分值", row[key], default_unit="分")
                sk = f"score{level}"
                if sk in row and node.score is None:
                    node.score = _cell_quantity(row[sk], "得分", row[key], default_unit="分")
                fill[level] = node
                for deeper in range(level + 1, 4):
                    fill.pop(deeper, None)
                path.append(node)
            if not path:
                continue
            if not any(g is path[0] for g in groups):
                groups.append(path[0])
            leaf = path[-1]
            if "max" in row and leaf.max_score is None:
                leaf.max_score = _cell_quantity(row["max"], "分值", row.get(f"L{leaf.level}"), default_unit="分")
            if "score" in row and leaf.score is None:
                leaf.score = _cell_quantity(row["score"], "得分", row.get(f"L{leaf.level}"), default_unit="分")
            if "deduction" in row and leaf.deduction is None:
                leaf.deduction = _cell_quantity(row["deduction"], "扣分", row.get(f"L{leaf.level}"), default_unit="分")
    return roots, totals


def _roles(texts: list[str], prev: list[str] | None) -> list[str]:
    while texts and not texts[-1].strip():
        texts = texts[:-1]
    roles: list[str] = []
    last_level = 0
    for t in texts:
        t = re.sub(r"\s+", "", t)
        if t in _LEVEL_HDR or (any(k in t for k in _LEVEL_HDR) and len(t) <= 6):
            last_level = next(v for k, v in _LEVEL_HDR.items() if k in t)
            roles.append(f"L{last_level}")
        elif re.search(r"扣分", t) and not re.search(r"原因|说明|理由|依据", t):
            roles.append("deduction")
        elif re.search(r"得分", t) and not re.search(r"得分率|率", t):
            roles.append("score")
        elif re.search(r"评分分值|分值|满分", t):
            roles.append(
                f"max{last_level}"
                if last_level and roles and roles[-1] == f"L{last_level}" and "L3" not in roles
                else "max"
            )
        else:
            roles.append("")
    if "score" not in roles and prev:
        # A two-row header: the first row's lead cell spans the level columns of the second.
        extra = _roles(prev[1:], None)
        roles = roles + extra
    # A 权重 column is a percentage; the 评分分值 next to it is the weight in points.
    if "max" not in roles and f"max{last_level}" in roles and last_level == 1:
        roles = ["max" if r == "max1" else r for r in roles]
    # "一级指标 分值 得分 二级指标 分值 得分": a score column before a deeper level column is that level's.
    level = 0
    for i, r in enumerate(roles):
        if r.startswith("L"):
            level = int(r[1:])
        elif r in {"score", "max"} and level and any(x.startswith("L") for x in roles[i + 1 :]):
            roles[i] = f"{r}{level}"
    return roles


_FUND_HDR = re.compile(r"预算数|执行数|执行率")


def _fund_tables(tables: list[Table]) -> tuple[list[FundFlow], list[SumClaim]]:
    """自评表 money rows under a 全年预算数 / 全年执行数 / 预算执行率 header, and their 总额 = 其中 sums."""
    flows: list[FundFlow] = []
    sums: list[SumClaim] = []
    for t in tables:
        unit = _table_money_unit(t)
        cols: dict[str, int] = {}
        group: list[FundFlow] = []
        for r in t.rows:
            texts = [re.sub(r"\s+", "", fold(x)) for x in r.texts]
            if sum(bool(_FUND_HDR.search(x)) for x in texts) >= 2:
                flows.extend(group)
                _table_sums(group, sums)
                group, cols = [], {}
                for i, x in enumerate(texts):
                    if "执行率" in x:
                        cols["rate"] = i
                    elif "执行数" in x:
                        cols["spent"] = i
                    elif "预算数" in x:
                        cols["budget"] = i
                continue
            if not cols:
                continue
            label_i = next((i for i, x in enumerate(texts) if x and not re.fullmatch(NUM + "%?", x)), None)
            in_cols = [texts[i] for i in cols.values() if i < len(texts)]
            if not any(re.fullmatch(NUM + "%?", x) for x in in_cols):
                # A part row left blank (地方资金 with no money) stays in the table; anything else ends it.
                blank_part = (
                    label_i is not None and not any(in_cols) and re.match(_PART_ROW, texts[label_i]) is not None
                )
                if not blank_part:
                    flows.extend(group)
                    _table_sums(group, sums)
                    group, cols = [], {}
                continue
            if label_i is None or label_i >= min(cols.values()):
                continue
            name = texts[label_i].strip(":：")
            fields: dict[str, Quantity] = {}
            for fld, i in cols.items():
                q = _cell_quantity(r.cells[i], name, r.cells[label_i]) if i < len(r.cells) else None
                if q is None:
                    continue
                if fld == "rate":
                    if q.unit != "%":
                        continue  # "0" under 执行率 for a zero budget is not a rate
                elif not q.unit:
                    q = q.model_copy(update={"unit": unit})
                fields[fld] = q
            if fields:
                group.append(FundFlow(name=name, source="table", **fields))
        flows.extend(group)
        _table_sums(group, sums)
    return flows, sums


_PART_ROW = r"其中|地方|其他|中央|省级|市级|县级"


def _table_money_unit(t: Table) -> str:
    """The money unit a table declares (单位：元, 项目资金（万元）), 万元 when it declares none."""
    for r in t.rows[:6]:
        m = re.search(r"(?:单位[:：]?\s*|[（(])\s*(亿元|万元|元)\s*[)）]?", "".join(r.texts))
        if m:
            return m.group(1)
    return "万元"


def _table_sums(flows: list[FundFlow], sums: list[SumClaim]) -> None:
    if not flows or not re.search(r"总额|合计|总计", flows[0].name):
        return
    parts = flows[1:]
    if len(parts) < 1:
        return
    for fld in ("budget", "spent"):
        total = getattr(flows[0], fld)
        ps = [getattr(p, fld) for p in parts if getattr(p, fld) is not None]
        if total is not None and ps:
            sums.append(
                SumClaim(
                    label=f"{flows[0].name}（{'全年预算数' if fld == 'budget' else '全年执行数'}）",
                    total=total,
                    parts=ps,
                    exhaustive=True,
                )
            )


def _row_sums(tables: list[Table]) -> list[SumClaim]:
    """A header row naming a total and its parts (资金总额 | 财政拨款 | 其他资金) over a row of numbers."""
    out: list[SumClaim] = []
    for t in tables:
        unit = _table_money_unit(t)
        for a, b in zip(t.rows, t.rows[1:], strict=False):
            ha = [re.sub(r"\s+", "", fold(x)) for x in a.texts]
            tot = next((i for i, x in enumerate(ha) if re.fullmatch(r".{0,4}(总额|合计|总计)", x)), None)
            if tot is None:
                continue
            part_cols = [i for i in range(tot + 1, len(ha)) if ha[i]]
            if not part_cols or tot >= len(b.cells):
                continue
            total = _cell_quantity(b.cells[tot], ha[tot], a.cells[tot])
            if total is None:
                continue
            parts = []
            blank = []
            for i in part_cols:
                q = _cell_quantity(b.cells[i], ha[i], a.cells[i]) if i < len(b.cells) else None
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
    return out


# ----------------------------------------------------------------------------- indicators

_OP_WORDS = [
    ("≥", ">="),
    (">=", ">="),
    ("≤", "<="),
    ("<=", "<="),
    (">", ">"),
    ("<", "<"),
    ("=", "="),
    ("大于等于", ">="),
    ("不低于", ">="),
    ("不少于", ">="),
    ("小于等于", "<="),
    ("不高于", "<="),
    ("不超过", "<="),
    ("大于", ">"),
    ("小于", "<"),
    ("高于", ">"),
    ("低于", "<"),
]
_TARGET = re.compile(
    rf"^\s*(?P<pre>[^\d\s\-−]{{0,12}}?)?\s*(?P<op>≥|≤|>=|<=|>|<|=|大于等于|不低于|不少于|小于等于|不高于|不超过|大于|小于)?"
    rf"\s*(?P<v>{NUM})\s*(?:[-－~～至]\s*(?P<v2>{NUM}))?\s*(?P<u>{UNIT}|万人|个月|[^\d\s≥≤<>=以]{{1,8}}?)?"
    rf"\s*(?P<post>以上|以下|以内|及以上|及以下)?\s*$"
)


def _parse_target(text: str) -> tuple[str, str, str, str, str] | None:
    """(op, value, value2, unit, prefix) of a target cell such as '≥218 万人', '6-9 个月', '85%以上'."""
    t = fold(text).replace("$", "").replace("\\geq", "≥").replace("\\leq", "≤").replace("\\%", "%").strip()
    m = _TARGET.match(t)
    if not m:
        return None
    op = dict(_OP_WORDS).get(m.group("op") or "", "")
    post = m.group("post") or ""
    if m.group("v2"):
        op = "range"
    elif not op:
        op = ">=" if post in {"以上", "及以上"} else "<=" if post in {"以下", "以内", "及以下"} else "="
    return op, m.group("v"), m.group("v2") or "", (m.group("u") or "").replace("％", "%"), m.group("pre") or ""


_COMPARE = re.compile(
    rf"(?<![\d.])(?P<a>{NUM})\s*(?P<ua>{UNIT}|万人|个月)?\s*[，,]?\s*(?P<op>大于等于|不低于|不少于|大于|高于|超过|小于等于|不高于|小于|低于)了?"
    rf"\s*(?P<b>{NUM})\s*(?P<ub>{UNIT}|万人|个月)?"
)
_CMP_OP = {
    "大于等于": ">=",
    "不低于": ">=",
    "不少于": ">=",
    "大于": ">",
    "高于": ">",
    "超过": ">",
    "小于等于": "<=",
    "不高于": "<=",
    "小于": "<",
    "低于": "<",
}


def _prose_comparisons(paras: list[Para]) -> list[Indicator]:
    """Sentences such as '应用率为100%，大于80%': the text claims the actual beats the target."""
    out: list[Indicator] = []
    for p in paras:
        text = fold(p.text)
        for m in _COMPARE.finditer(text):
            ua, ub = m.group("ua") or "", m.group("ub") or ""
            if ua in {"年", "月", "日"} or ub in {"年", "月", "日"} or (ub and ua != ub):
                continue
            ls = max((text.rfind(c, 0, m.start()) for c in "，,。；;："), default=-1) + 1
            name = re.sub(r"(?:为|是|达到|达)$", "", text[ls : m.start()].strip())
            av, ad = parse(m.group("a"))  # type: ignore[misc]
            bv, bd = parse(m.group("b"))  # type: ignore[misc]
            s, e = p.doc_span(ls, m.end())
            ev = Evidence(quote="", start=s, end=e)
            out.append(
                Indicator(
                    name=name or "指标",
                    op=_CMP_OP[m.group("op")],  # type: ignore[arg-type]
                    target=Quantity(value=bv, unit=ub or ua, text=m.group("b"), decimals=bd, evidence=ev, label="目标"),
                    target_text=m.group("b") + ub,
                    actual=Quantity(value=av, unit=ua, text=m.group("a"), decimals=ad, evidence=ev, label="实际"),
                    actual_text=m.group("a") + ua,
                    claimed_met=True,
                    evidence=ev,
                )
            )
    return out


_IND_ROLES = (
    ("reason", r"原因|偏差|措施|说明"),
    ("actual", r"实际|完成值|完成情况"),
    ("target", r"指标值|目标值"),
    ("score", r"得分"),
    ("max", r"分值|权重|满分"),
    ("op", r"性质"),
    ("unit", r"单位"),
)


def _indicator_roles(texts: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for i, x in enumerate(texts):
        for role, pat in _IND_ROLES:
            if x and re.search(pat, x) and role not in roles:
                roles[role] = i
                break
    return roles


def _indicator_tables(tables: list[Table]) -> list[Indicator]:
    """Indicator rows under a header with 指标值 and 实际完成值 columns (and maybe 分值, 得分, 原因)."""
    out: list[Indicator] = []
    for t in tables:
        roles: dict[str, int] | None = None
        for r in t.rows:
            texts = [re.sub(r"\s+", "", fold(x)) for x in r.texts]
            if any("指标值" in x or "目标值" in x for x in texts) and any(re.search(r"实际|完成", x) for x in texts):
                roles = _indicator_roles(texts)
                continue
            if roles is None:
                continue
            ind = _indicator_row(r, texts, roles)
            if ind is not None:
                out.append(ind)
    return out


def _indicator_row(r: Row, texts: list[str], roles: dict[str, int]) -> Indicator | None:
    n = len(texts)
    for i in range(n):
        # op column layout: name | op | value | unit | actual
        if "op" in roles and texts[i] in {"≥", "≤", ">", "<", "="} and i + 2 < n:
            unit = texts[i + 2] if i + 3 < n and not re.search(r"\d", texts[i + 2]) else ""
            act_i = i + 3 if unit else i + 2
            tgt = _parse_target(texts[i] + texts[i + 1] + unit)
            if tgt is None or act_i >= n:
                return None
            return _make_indicator(r, i - 1, tgt, i + 1, act_i, unit, roles, roles.get("target", i + 1))
        tgt = _parse_target(texts[i])
        if (
            tgt is None
            or i == 0
            or i + 1 >= n
            or (tgt[4] and not re.match(r"[≥≤<>=]|大于|小于|不", texts[i][len(tgt[4]) :]))
        ):
            continue  # "PM2.5年均浓度" is a name with a number in it, not a target
        bare = not tgt[0] or (tgt[0] == "=" and not tgt[3] and not re.search(r"[=＝]", texts[i]))
        if bare and "target" in roles and i != roles["target"]:
            continue  # a bare number off the 指标值 column is a weight or a score, not a target
        if re.fullmatch(r"合计|总分|小计|总计", texts[i - 1]):
            continue
        shift = i - roles.get("target", i)
        act_i = roles["actual"] + shift if "actual" in roles else i + 1
        if not (0 <= act_i < n) or not texts[act_i]:
            continue
        ind = _make_indicator(r, i - 1, tgt, i, act_i, tgt[3], roles, roles.get("target", i))
        if ind is not None:
            return ind
    return None


def _cell_at(r: Row, roles: dict[str, int], role: str, shift: int) -> Span | None:
    if role not in roles:
        return None
    k = roles[role] + shift
    return r.cells[k] if 0 <= k < len(r.cells) else None


def _make_indicator(
    r: Row,
    name_i: int,
    tgt: tuple[str, str, str, str, str],
    tgt_i: int,
    act_i: int,
    unit: str,
    roles: dict[str, int],
    tgt_h: int,
) -> Indicator | None:
    cells, texts = r.cells, [re.sub(r"\s+", "", fold(x)) for x in r.texts]
    while name_i > 0 and not texts[name_i]:
        name_i -= 1
    name = texts[name_i] if name_i >= 0 else ""
    if not name:
        return None
    shift = tgt_i - tgt_h
    op, v, v2, u, _pre = tgt
    u = u or unit
    act_t = fold(cells[act_i].text).replace("$", "").strip()
    am = re.fullmatch(rf"\s*({NUM})\s*([^\d\s≥≤<>=]{{0,10}})\s*", act_t)
    tv, td = parse(v)  # type: ignore[misc]
    ev = Evidence(quote="", start=cells[name_i].start, end=cells[act_i].end)
    target = Quantity(value=tv, unit=u, text=v, decimals=td, evidence=ev, label="指标值")
    target_high = None
    if v2:
        hv, hd = parse(v2)  # type: ignore[misc]
        target_high = Quantity(value=hv, unit=u, text=v2, decimals=hd, evidence=ev, label="指标值上限")
    actual = None
    if am and not re.search(r"以上|以下|以内", am.group(2)):
        av, ad = parse(am.group(1))  # type: ignore[misc]
        actual = Quantity(
            value=av,
            unit=(am.group(2) or u).replace("％", "%"),
            text=am.group(1),
            decimals=ad,
            evidence=Evidence(quote="", start=cells[act_i].start, end=cells[act_i].end),
            label="实际完成值",
        )
    score_cell, max_cell = _cell_at(r, roles, "score", shift), _cell_at(r, roles, "max", shift)
    score = _cell_quantity(score_cell, "得分", cells[name_i], default_unit="分") if score_cell else None
    max_score = _cell_quantity(max_cell, "分值", cells[name_i], default_unit="分") if max_cell else None
    reason_cell = _cell_at(r, roles, "reason", shift)
    if reason_cell is not None:
        reason = reason_cell.text.strip()
    else:
        used = {act_i} | {c for c in (roles.get("score"), roles.get("max")) if c is not None}
        reason = " ".join(x for k, x in enumerate(texts) if k > act_i and x and k - shift not in used)
    return Indicator(
        name=name,
        levels=[x for x in texts[:name_i] if x],
        op=op,
        target=target,
        target_high=target_high,
        target_text=texts[tgt_i],
        actual=actual,
        actual_text=act_t,
        score=score,
        max_score=max_score,
        reason=reason,
        has_reason_column="reason" in roles,
        evidence=ev,
    )


# ----------------------------------------------------------------------------- ratings and claims

_GRADE_WORDS = "优秀|优|良好|良|中等|中|合格|及格|差|不合格"
_RATING = re.compile(
    rf"(?:总体自评为|总体得分为?|综合得分为?|绩效(?:自评|评价)?总?得分为?|总得分为?|自评总分为?|(?<!评价)自评得分为?)"
    rf"\s*({NUM})\s*分"
    rf"(?:[，,。；]?\s*[^。]{{0,20}}?(?:自评为|评价为|等级为|评定为|为)\s*[“\"]?({_GRADE_WORDS})[”\"]?)?"
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


def _ratings(paras: list[Para], nodes: list[_ProseNode]) -> list[Rating]:
    bands: list[GradeBand] = []
    for p in paras:
        text = fold(p.text)
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
        text = fold(p.text)
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
            q = _number(m.group(1), "分", s, e, "总分")
            grade_ev = None
            grade = m.group(2)
            if grade:
                gs, ge = p.doc_span(m.start(), m.end())
                grade_ev = Evidence(quote="", start=gs, end=ge)
            else:
                # "自评总分88.5分。评分等级标准为…。…自评等级为优。": the grade may come sentences later.
                later = _GRADE_LATER.search(text, m.end())
                if later is not None:
                    grade = later.group(1)
                    gs, ge = p.doc_span(later.start(), later.end())
                    grade_ev = Evidence(quote="", start=gs, end=ge)
            out.append(Rating(score=q, grade=grade, grade_evidence=grade_ev, bands=bands))
    if not out:
        # "本项目得分84.6分，评价等级为“优”": a score given a grade is the total whatever it is called.
        for p in paras:
            text = fold(p.text)
            for m in _RATING_GRADED.finditer(text):
                s0, e0 = p.doc_span(m.start(1), m.end(1))
                gs, ge = p.doc_span(m.start(), m.end())
                q = _number(m.group(1), "分", s0, e0, "总分")
                out.append(
                    Rating(score=q, grade=m.group(2), grade_evidence=Evidence(quote="", start=gs, end=ge), bands=bands)
                )
    return out


def _claims(paras: list[Para]) -> list[Claim]:
    out: list[Claim] = []
    for p in paras:
        text = fold(p.text)
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


def _fund_mentions(paras: list[Para]) -> list[FundMention]:
    out: list[FundMention] = []
    for p in paras:
        for n in _numbers(p):
            if n.unit not in _MONEY or not fund_kind(n.label):
                continue
            if not re.search(r"到位|收入|下达|支出|拨付|安排", n.label):
                continue
            out.append(FundMention(fund=n.label, amount=_quantity(n)))
    return out


_LATE = re.compile(r"未达到|未能及时|未及时|未按时|未按规定时[间限]|滞后|延迟|逾期|时间较晚|超过规定|未在.{0,16}内")
_TIMELY = re.compile(r"(?<![未不])(?:及时|按时|如期)")


def _statements(tables: list[Table]) -> list[Statement]:
    out: list[Statement] = []
    for t in tables:
        for r in t.rows:
            cells = [c for c in r.cells if c.text.strip()]
            if len(cells) < 3 or "及时" not in cells[0].text:
                continue
            subject = cells[0].text
            for c in cells[1:]:
                late = _LATE.search(c.text)
                if late:
                    s, e = c.doc_span(0, min(len(c.text), late.end() + 30))
                    out.append(Statement(subject=subject, kind="late", evidence=Evidence(quote="", start=s, end=e)))
                elif _TIMELY.search(c.text):
                    m = _TIMELY.search(c.text)
                    assert m is not None
                    s, e = c.doc_span(0, min(len(c.text), m.end() + 20))
                    out.append(Statement(subject=subject, kind="timely", evidence=Evidence(quote="", start=s, end=e)))
    return out


# ----------------------------------------------------------------------------- entry point


def extract_facts(unit: Unit) -> Facts:
    """Read a Unit's structure into Facts; evidence carries document offsets, quotes filled by grounding."""
    blocks = layout.blocks(unit.text, unit.start)
    paras = [b for b in blocks if isinstance(b, Para)]
    tables = [b for b in blocks if isinstance(b, Table)]
    flows = _flows(paras, unit.fund, unit.year)
    table_flows, table_sums = _fund_tables(tables)
    table_roots, table_totals = _score_tables(tables)
    prose_nodes = _prose_nodes(paras)
    prose_roots = build_tree(prose_nodes)
    facts = Facts(
        fund_flows=flows + table_flows,
        sums=_sums(paras) + table_sums + _row_sums(tables) + table_totals,
        ratios=_ratios(paras),
        changes=_changes(paras),
        scores=prose_roots + table_roots,
        indicators=_indicator_tables(tables) + _prose_comparisons(paras),
        ratings=_ratings(paras, prose_nodes),
        claims=_claims(paras),
        statements=_statements(tables),
        fund_mentions=_fund_mentions(paras),
        fund=unit.fund,
    )
    return facts


class RulesExtractor:
    """Deterministic, offline extractor."""

    name = "rules"

    def extract(self, unit: Unit) -> ExtractResult:
        return ExtractResult(facts=extract_facts(unit), extractor=self.name)
