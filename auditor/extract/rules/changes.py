"""Changes: a value, the value it is compared with (上年, 去年, 同期) and the stated increase or decrease."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import (
    NUM,
    Num,
    between,
    compatible,
    ending_by,
    folded,
    last_of,
    named_elsewhere,
    number,
    numbers,
    quantity,
    sentence_end,
    sentence_start,
)
from auditor.facts import ChangeClaim, Facts
from auditor.layout import Para

_CU = r"[^\d\s，,。；;较]{0,8}?"
_DOWN = {"压减", "减少", "下降", "降低", "回落", "下滑", "缩减", "减"}
# A comparison with last year (比上年, 较2023年, 与上年相比, 同比) and what follows it: last year's value, the
# verb, the amount or the percentage, then perhaps the percentage after the amount.
_COMPARE = re.compile(
    r"(?:与|和|比|较|同)(?:上年|去年|上年度|上一年度?|前一年|(?:19|20)\d\d\s*年度?)(?:同期)?(?:相比|比较)?(?:的)?|同比"
)
_VERB = re.compile(r"(?:共|累计|分别|各)?(?P<v>压减|减少|下降|降低|回落|下滑|缩减|增加|增长|提高|上升|上涨)了?")
_CHANGED = re.compile(r"(?:增加|减少|增长|下降|降低|压减|提高|上升|上涨|节约|超支|相比|持平)了?$")
_RATE_WORD = re.compile(r"(?:增幅|降幅|增长率|下降率|幅度|增速)(?:为|达|是)?")
# "X万元，2023年为Y万元，较上年增长Z%": both values, then the change.
_CHANGE_YEARS = re.compile(
    rf"(?<![\d.])(?P<a>{NUM})\s*(?P<ua>{_CU})\s*[，,]\s*(?:20\d\d\s*年|上年|去年)(?:为|是)?\s*(?P<b>{NUM})\s*(?P<ub>{_CU})"
    rf"\s*[，,]\s*(?:较上年|同比|比上年)?(?P<verb>压减|减少|下降|降低|增加|增长|提高|上升)了?\s*(?P<c>{NUM})\s*[%％]"
)


def _direction(verb: str) -> int:
    return -1 if verb in _DOWN else 1


@register("changes.prose")
def prose_changes(ctx: Context) -> Facts:
    """Changes stated against last year in any order: this year's value, last year's, the amount, the percent."""
    out: list[ChangeClaim] = []
    for p in ctx.paras:
        text = folded(p)
        nums = numbers(p)
        for m in _COMPARE.finditer(text):
            claim = _comparison(ctx, p, text, nums, m)
            out.extend(claim)
            if claim:
                out.extend(_inherited(ctx, p, text, nums, m))
    for p in ctx.paras:
        text = folded(p)
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


def _comparison(ctx: Context, p: Para, text: str, nums: list[Num], m: re.Match[str]) -> list[ChangeClaim]:
    """The claims of one comparison: last year's value (比上年Y), the change amount and the percent after it,
    against this year's value stated just before (X，比上年…) or named elsewhere in the report."""
    end_of_sentence = sentence_end(text, m.end())
    after = between(nums, m.end(), end_of_sentence)
    pos = m.end()
    before = amount = pct = None
    verb = ""
    if after and _unit(text, after[0]) not in {"", "%"} and re.fullmatch(r"[\s为是]*", text[pos : after[0].i]):
        before, pos = after[0], _end(text, after[0])
    v = _VERB.search(text, pos, min(end_of_sentence, pos + 30))
    subject_between = ""
    if v is not None and re.fullmatch(r"[\s,]*[^\d,。;；]*", text[pos : v.start()]):
        subject_between = text[pos : v.start()].strip(" ,")
        verb, pos = v.group("v"), v.end()
        nxt = next((n for n in after if n.i >= pos), None)
        if nxt is not None and re.fullmatch(r"\s*", text[pos : nxt.i]):
            if nxt.unit == "%":
                pct, pos = nxt, nxt.k
            elif _unit(text, nxt):
                amount, pos = nxt, _end(text, nxt)
    elif before is None:
        return []
    if pct is None:
        # 增加A万元，增长X% / 比上年Y元，增长X% / …，增幅X%
        tail = re.match(rf"[\s,]*(?:{_VERB.pattern}|{_RATE_WORD.pattern})?\s*", text[pos:end_of_sentence])
        nxt = next((n for n in after if n.i >= pos), None)
        if tail and nxt is not None and nxt.unit == "%" and nxt.i == pos + tail.end():
            pct = nxt
            verb = tail.group("v") or verb
    if not verb or (amount is None and pct is None):
        return []
    direction = -1 if verb in _DOWN else 1
    first = before or amount
    unit = _unit(text, first) if first is not None else ""
    if first is None:
        # only a percent (X万吨，较2023年下降P%): this year's value is the one just before, last year's is
        # looked for where the report states it
        prev = ending_by(nums, m.start())
        if prev and prev[-1].unit and prev[-1].unit != "%" and re.fullmatch(r"[\s,]*", text[prev[-1].k : m.start()]):
            unit = prev[-1].unit
    this_year = _this_year(ctx, p, text, nums, m, unit, subject_between) if unit else None
    if this_year is None or (amount is not None and before is not None and not _same(_unit(text, amount), unit)):
        return []
    label = subject_between or _clause_before(text, m.start()) or "较上年"
    if pct is not None and before is None and amount is None:
        before = _last_year(ctx, this_year, m.group())
        if before is None:
            return []
    claims = []
    if before is not None and amount is not None:
        claims.append(_claim(label, before, this_year, amount, direction, relative=False))
    if pct is not None and (before is not None or amount is not None):
        claims.append(_claim(label, before, this_year, pct, direction, relative=True, amount=amount))
    return claims


def _claim(
    label: str, before: Num | None, after: Num, change: Num, direction: int, relative: bool, amount: Num | None = None
) -> ChangeClaim:
    return ChangeClaim(
        label=label,
        before=quantity(before, "上年") if before is not None else None,
        after=quantity(after),
        change=quantity(change),
        amount=quantity(amount) if amount is not None and before is None else None,
        direction=direction,  # type: ignore[arg-type]
        relative=relative,
    )


def _clause_before(text: str, k: int) -> str:
    ls = max(text.rfind(c, 0, k) for c in ",。;；:")
    return text[ls + 1 : k].strip()


def _this_year(
    ctx: Context, p: Para, text: str, nums: list[Num], m: re.Match[str], unit: str, subject: str
) -> Num | None:
    """This year's value: the number just before the comparison (X万元，比上年…), else the one the subject of
    the comparison names elsewhere (…支出决算数比上年减少A: the 支出决算 stated before)."""
    cursor = m.start()
    while True:
        prev = ending_by(nums, cursor)
        adjacent = prev and re.fullmatch(r"[\s,]*", text[_end(text, prev[-1]) : cursor])
        if not adjacent or not _CHANGED.search(prev[-1].label):
            break
        cursor = prev[-1].label_start  # X，比预算增加A，比上年…: step back over the other comparison to X
    if adjacent and _same(_unit(text, prev[-1]), unit):
        return prev[-1]
    name = subject or _clause_before(text, m.start()) or _subject_before(text, m.start())
    if prev and max(text.rfind(c, 0, m.start()) for c in ",。;；:") < prev[-1].k:
        return None  # a number stands between the subject and the comparison: not this year's value
    if unit.startswith("~"):
        return None
    return named_elsewhere(ctx.paras, name, unit, near=p, before=m.start()) if name else None


def _unit(text: str, n: Num) -> str:
    """The number's unit, or the word written after it (公斤, 台套) that no unit list knows."""
    if n.unit:
        return n.unit
    m = re.match(r"\s*([\u4e00-\u9fff]{1,2})", text[n.j :])
    return "~" + m.group(1) if m and not re.match(_VERB.pattern + "|[比较与同为是的]", m.group(1)) else ""


def _same(a: str, b: str) -> bool:
    return bool(a) and (a == b or (not a.startswith("~") and not b.startswith("~") and compatible(a, b)))


def _end(text: str, n: Num) -> int:
    """Where the number and its unit (a known one or the word after it) end."""
    u = _unit(text, n)
    return n.k if not u.startswith("~") else text.index(u[1:], n.j) + len(u) - 1


def _last_year(ctx: Context, this_year: Num, marker: str) -> Num | None:
    """Last year's value of what `this_year` measures, stated in another sentence that names the year compared
    with (2023年…总产量为33.18万吨) or 上年."""
    year = re.search(r"(?:19|20)\d\d", marker)
    # the year named as the figure's own time (2023年…为X), not as a comparison (比上年)
    that_year = year.group() + r"\s*年" if year else r"上年|去年|上一年"
    when = re.compile(r"(?<![比较与同和])(?:" + that_year + ")")

    def in_that_year(n: Num) -> bool:
        text = folded(n.span)
        clause_start = last_of(text, ",，。；;", 0, n.i) + 1
        return bool(when.search(text[clause_start : n.i]))

    def other(n: Num) -> bool:
        return not (n.span is this_year.span and n.i == this_year.i)

    # The figures of that year are indexed once per Unit, not tested again for every comparison.
    return named_elsewhere(ctx.paras, this_year.label, this_year.unit, accept=other, among=(that_year, in_that_year))


# A clause that changes without naming the comparison again: "…，其中：X费减少A万元，下降P%；Y费…".
_ITEM_CHANGE = re.compile(
    rf"(?:^|[,;；:：]|其中)\s*(?P<subject>[^\d,，。;；:：]{{2,30}}?)(?P<v>压减|减少|下降|降低|增加|增长|提高|上升|上涨)了?\s*"
    rf"(?P<a>{NUM})\s*(?P<u>亿元|万元|元)\s*[,，]\s*(?P<v2>压减|减少|下降|降低|增加|增长|提高|上升|上涨)了?\s*(?P<p>{NUM})\s*%"
)


def _inherited(ctx: Context, p: Para, text: str, nums: list[Num], m: re.Match[str]) -> list[ChangeClaim]:
    """The items after a comparison in its sentence (其中 each cost's change): each against this year's value
    its subject names elsewhere; last year's is this year's ∓ the amount."""
    end = text.find("。", m.end())
    end = len(text) if end < 0 else end
    if text.startswith("其中", end + 1):
        nxt = text.find("。", end + 1)
        end = len(text) if nxt < 0 else nxt  # 。其中：… goes on with the items of this change
    out = []
    for it in _ITEM_CHANGE.finditer(text, m.end(), end):
        if _COMPARE.search(it.group("subject")) or it.start() <= m.end() + 1:
            continue  # a comparison of its own, or the clause of this one
        amount = next(iter(between(nums, it.start("a"), it.start("a") + 1)), None)
        pct = next(iter(between(nums, it.start("p"), it.start("p") + 1)), None)
        if amount is None or pct is None:
            continue
        this_year = named_elsewhere(ctx.paras, it.group("subject"), amount.unit, near=p, before=it.start())
        if this_year is None or this_year.i == amount.i:
            continue
        direction = -1 if it.group("v2") in _DOWN else 1
        out.append(_claim(it.group("subject"), None, this_year, pct, direction, relative=True, amount=amount))
    return out


def _subject_before(text: str, k: int) -> str:
    """The subject of the clauses before a comparison that has none of its own: X费支出决算比预算无增减变化，
    比去年增加A — the words before the first 比/较 of the nearest clause that has some."""
    start = sentence_start(text, k)
    for clause in reversed(re.split(r"[,，]", text[start:k])):
        head = re.split(r"比|较|与|同比", clause)[0].strip()
        if head and not re.search(r"\d", head):
            return head
    return ""
