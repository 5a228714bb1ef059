"""Changes: a value, the value it is compared with (上年, 去年, 同期) and the stated increase or decrease."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import NUM, number, numbers, quantity
from auditor.facts import ChangeClaim, Facts
from auditor.numbers import fold

_CU = r"[^\d\s，,。；;较]{0,8}?"
_DOWN = {"压减", "减少", "下降", "降低"}
# "X万元，较上年Y万元减少Z%": this year's value, last year's, the change.
_CHANGE = re.compile(
    rf"(?<![\d.])({NUM})\s*({_CU})\s*[，,]?\s*较(?:上年|去年|上年度|同期|上一年)?(?:的)?\s*({NUM})\s*({_CU})\s*"
    rf"(?:实现)?(压减|减少|下降|降低|增加|增长|提高|上升)了?\s*({NUM})\s*(%|{_CU})"
)
# "名称较上年Y万元增长Z%": this year's value is the one stated elsewhere under that name.
_CHANGE_REF = re.compile(
    rf"(?P<label>[\u4e00-\u9fa5]{{2,12}}?)较(?:上年|去年|上年度|同期|上一年)(?:的)?\s*(?P<b>{NUM})\s*(?P<u>{_CU})\s*"
    rf"(?:实现)?(?P<verb>压减|减少|下降|降低|增加|增长|提高|上升)了?\s*(?P<c>{NUM})\s*[%％]"
)
# "X万元，2023年为Y万元，较上年增长Z%": both values, then the change.
_CHANGE_YEARS = re.compile(
    rf"(?<![\d.])(?P<a>{NUM})\s*(?P<ua>{_CU})\s*[，,]\s*(?:20\d\d\s*年|上年|去年)(?:为|是)?\s*(?P<b>{NUM})\s*(?P<ub>{_CU})"
    rf"\s*[，,]\s*(?:较上年|同比|比上年)?(?P<verb>压减|减少|下降|降低|增加|增长|提高|上升)了?\s*(?P<c>{NUM})\s*[%％]"
)


def _name(label: str) -> str:
    """What a change refers to, without the generic noun (下达资金 and 本年下达 name the same amount)."""
    return re.sub(r"(?:资金|经费|金额|总额)$", "", label)


def _direction(verb: str) -> int:
    return -1 if verb in _DOWN else 1


@register("changes.prose")
def prose_changes(ctx: Context) -> Facts:
    """Changes stated as this year's value, last year's and the change, in one clause or by reference."""
    out: list[ChangeClaim] = []
    taken: set[tuple[int, int]] = set()
    for p in ctx.paras:
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
            if not chg_u and text.startswith(unit, m.end()):
                chg_u = unit  # 增加N人: the change is counted in the values' unit
            start, end = p.doc_span(m.start(), m.end())
            ls = max(text.rfind(c, 0, m.start()) for c in "，。；：")
            out.append(
                ChangeClaim(
                    label=text[ls + 1 : m.start()].strip(),
                    before=number(before_t, unit, start, end, "上年"),
                    after=number(after_t, unit, start, end, "本年"),
                    change=number(chg_t, chg_u, start, end, verb),
                    direction=_direction(verb),  # type: ignore[arg-type]
                    relative=chg_u == "%",
                )
            )
    for p in ctx.paras:
        text = fold(p.text)
        for m in _CHANGE_REF.finditer(text):
            if (p.start, m.start("b")) in taken:
                continue
            name = _name(m.group("label"))
            if len(name) < 2:
                continue
            unit = m.group("u")
            nums = [n for q in ctx.paras for n in numbers(q) if _name(n.label).endswith(name) and n.unit == unit]
            if len({n.value for n in nums}) != 1:
                continue
            s0, e0 = p.doc_span(m.start(), m.end())
            out.append(
                ChangeClaim(
                    label=m.group("label"),
                    before=number(m.group("b"), m.group("u"), s0, e0, "上年"),
                    after=quantity(nums[0]),
                    change=number(m.group("c"), "%", s0, e0, m.group("verb")),
                    direction=_direction(m.group("verb")),  # type: ignore[arg-type]
                    relative=True,
                )
            )
    for p in ctx.paras:
        text = fold(p.text)
        for m in _CHANGE_YEARS.finditer(text):
            if m.group("ua") != m.group("ub") or re.match(r"[年月日]", m.group("ua")):
                continue
            s0, e0 = p.doc_span(m.start(), m.end())
            out.append(
                ChangeClaim(
                    label=m.group("verb"),
                    before=number(m.group("b"), m.group("ub"), s0, e0, "上年"),
                    after=number(m.group("a"), m.group("ua"), s0, e0, "本年"),
                    change=number(m.group("c"), "%", s0, e0, m.group("verb")),
                    direction=_direction(m.group("verb")),  # type: ignore[arg-type]
                    relative=True,
                )
            )
    return Facts(changes=out)
