"""Number and label scanning shared by every reader: a number, its unit, the label before it, its evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from auditor.facts import Evidence, Quantity, scale_of
from auditor.layout import Span
from auditor.numbers import fold, parse

NUM = r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?"
UNIT = (
    r"亿元|万元|元|%|％|万人次|人次|万人|人|家次|家|个月|个|次|项|条|份|分钟|小时|分|笔|例|期|场次|场|批次|批|月|年"
    r"|工作日|万亩|亩|万吨|吨|公里|千米|平方米|立方米|辆|座|处|所|万户|户|株|台|套|篇|件|宗|起|万个|万家|万张|万所"
    r"|天|日|万尾|尾|万头|头|万只|只|羽|棵|公顷|平方公里|千瓦|床|栋|万册|册|卷|箱|公斤|千克|段|km|hm²|hm2|hm"
)
_NUM_UNIT = re.compile(rf"(?<![\d.])({NUM})\s*({UNIT})?")
_CLAUSE_DELIM = "，,。；;：:、！？\n"
MONEY = {"亿元", "万元", "元"}


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


def numbers(span: Span) -> list[Num]:
    """Every quantity of a span with the clause text before it as its label; dates and document numbers are not."""
    # Readers ask for the same paragraph's numbers many times (a name looked up across the Unit): scan it once.
    memo = span.__dict__.get("_numbers")
    if memo is not None and memo[0] == span.text:
        return memo[1]
    out = _scan(span)
    span.__dict__["_numbers"] = (span.text, out)
    return out


def _scan(span: Span) -> list[Num]:
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


def quantity(n: Num, label: str = "", quote_from: int | None = None) -> Quantity:
    """The Quantity of a scanned number, its evidence running from its label (or `quote_from`) to its unit."""
    qa = n.label_start if quote_from is None else quote_from
    start, end = n.span.doc_span(qa, n.k)
    return number(n.text, n.unit, start, end, label or n.label)


def number(text: str, unit: str, start: int, end: int, label: str) -> Quantity:
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


def cell_quantity(cell: Span, label: str, quote_from: Span | None = None, default_unit: str = "") -> Quantity | None:
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


def sentences(span: Span) -> list[tuple[int, int]]:
    """[start, end) of each sentence of a span, cut after 。！？."""
    text = span.text
    out, a = [], 0
    for m in re.finditer(r"[。！？!?]", text):
        out.append((a, m.end()))
        a = m.end()
    if a < len(text):
        out.append((a, len(text)))
    return out


def compatible(a: str, b: str) -> bool:
    """Two units that can be added: equal, or scales of one measure (元 and 万元, 尾 and 万尾)."""
    return family(a) == family(b)


def family(unit: str) -> str:
    """The measure a unit counts in (万元 for 元 and 亿元, 人 for 万人); 人 and 人次 are two measures."""
    return scale_of(unit)[0]


def scale(unit: str) -> Decimal:
    """The factor from a unit to its measure's base (10000 for 亿元 in 万元)."""
    return scale_of(unit)[1]


def sentence_start(text: str, i: int) -> int:
    """Where the sentence holding offset i starts (after 。 or ；)."""
    return max(text.rfind(c, 0, i) for c in "。；;") + 1


def sentence_end(text: str, k: int) -> int:
    """Where the sentence running on from offset k ends (its 。 or ；, else the end of the text)."""
    return min((e for e in (text.find(c, k) for c in "。；;") if e >= 0), default=len(text))


MARKER = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?\s*(?P<m>[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+\s*[、.．](?!\d)"
    r"|[（(]\d+[)）]|[①②③④⑤⑥⑦⑧⑨⑩]|——|—)"
)


def style(marker: str) -> str:
    """The numbering style of an item marker: 一、 (cn), （一） (pcn), 1. (d), （1） (pd), ① (circ), — (dash)."""
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


# What a label names once the words that only place or frame it are gone: years, 本年/当年, quotes, spaces,
# a leading 其中 and a trailing 为/数/资金 (下达资金 and 本年下达 name the same amount).
_FRAME = re.compile(
    r"(?:19|20)\d\d\s*年度?|本年度?|当年|今年|全年|[“”\"'‘’\s]|^其中[:：]?|^的|^(?:全|我|本)[县市省区州镇乡旗国]"
)
_TAIL = re.compile(r"(?:为|是|达到|共计|共|约|总数|数量|数|金额|资金|经费|的)+$")


def subject_key(label: str) -> str:
    """A label reduced to the thing it names, for finding the same quantity named elsewhere."""
    key = _TAIL.sub("", _FRAME.sub("", fold(label)))
    return re.sub(r"^(?:的|其中|[,，、:：])+", "", key)


def named_elsewhere(
    paras: list, subject: str, unit: str, near: object = None, before: int | None = None, accept: object = None
) -> Num | None:
    """The one quantity whose label names `subject` (see `_names`), in a unit of the same measure: looked for
    first in the paragraph `near` (before offset `before`), then in the whole Unit. None when none or several
    values answer."""
    key = subject_key(subject)
    if len(key) < 2:
        return None
    scopes = ([[near]] if near is not None else []) + [paras]
    for scope in scopes:
        pool = [n for p in scope for n in numbers(p) if n.unit and n.unit != "%" and compatible(n.unit, unit)]
        if scope is not paras and before is not None:
            pool = [n for n in pool if n.k <= before]
        if callable(accept):
            pool = [n for n in pool if accept(n)]
        for tier in range(4):
            hits = [n for n in pool if _names(tier, key, n)]
            if hits:
                return hits[-1] if len({n.value * scale(n.unit) for n in hits}) == 1 else None
    return None


def _names(tier: int, key: str, n: Num) -> bool:
    """Whether the label of `n` names `key`, by tiers from the strictest: the same name; the same but for 支出
    (因公出国费支出决算 and 因公出国费决算); one name ending the other, the shorter being most of the longer or
    the longer's head standing before it in its sentence (“三公”经费…，支出决算为X names 三公经费支出决算); one
    name starting the other."""
    k = subject_key(n.label)
    if tier == 0:
        return k == key
    if tier == 1:
        bare = key.replace("支出", "")
        return len(bare) >= 4 and k.replace("支出", "") == bare
    short, long_ = sorted((k, key), key=len)
    if tier == 2:
        if len(short) < 4 or not long_.endswith(short):
            return False
        if 2 * len(short) >= len(long_):
            return True
        text = fold(n.span.text)
        sentence = re.sub(r"[“”\"'‘’\s]", "", text[sentence_start(text, n.i) : n.i])
        return long_ == key and key[:4] in sentence
    return len(key) >= 6 and k.startswith(key)
