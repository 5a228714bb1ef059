"""Number and label scanning shared by every reader: a number, its unit, the label before it, its evidence."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
    if memo is not None and memo[0] is span.text:
        return memo[1]
    out = _scan(span)
    span.__dict__["_numbers"] = (span.text, out)
    return out


def folded(span: Span) -> str:
    """The span's text with ASCII digits and punctuation (numbers.fold), computed once per span."""
    memo = span.__dict__.get("_folded")
    if memo is not None and memo[0] is span.text:
        return memo[1]  # type: ignore[no-any-return]
    out = fold(span.text)
    span.__dict__["_folded"] = (span.text, out)
    return out


def between(nums: list[Num], a: int, b: int) -> list[Num]:
    """The numbers (in order, as numbers() gives them) that start in [a, b), found by bisection."""
    return nums[bisect_left(nums, a, key=_start) : bisect_left(nums, b, key=_start)]


def ending_by(nums: list[Num], k: int, a: int = 0) -> list[Num]:
    """The numbers (in order) that start at a or after and end, unit included, by k."""
    return nums[bisect_left(nums, a, key=_start) : bisect_right(nums, k, key=_end)]


def _start(n: Num) -> int:
    return n.i


def _end(n: Num) -> int:
    return n.k


def per_unit(paras: list, make: Callable[..., Any], *args: Hashable) -> Any:
    """`make(paras, *args)` computed once per Unit's paragraph list: a look-up across the whole Unit that many
    sentences make alike is not a pass over the Unit for each of them."""
    memo = getattr(paras, "__dict__", None)
    if memo is None:
        return make(paras, *args)
    cache = memo.setdefault("_per_unit", {})
    key = (make, *args)
    if key not in cache:
        cache[key] = make(paras, *args)
    return cache[key]


def _scan(span: Span) -> list[Num]:
    text = folded(span)
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
        # The label cannot start before the previous number: search only from there.
        ls = max(prev_end, max((text.rfind(d, prev_end, i) + 1 for d in _CLAUSE_DELIM), default=0))
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


# How far back or ahead a delimiter is looked for before the whole text is: sentences are shorter, so the
# search for one delimiter that a paragraph never uses does not read the paragraph once per number.
WINDOW = 2000


def last_of(text: str, chars: str, a: int, i: int) -> int:
    """max(text.rfind(c, a, i) for c in chars): the last of `chars` in text[a:i], -1 when none."""
    lo = max(a, i - WINDOW)
    k = max(text.rfind(c, lo, i) for c in chars)
    if k >= 0 or lo == a:
        return k
    return max(text.rfind(c, a, lo) for c in chars)


def first_of(text: str, chars: str, k: int) -> int:
    """The first of `chars` in text[k:], -1 when none."""
    hi = k + WINDOW
    found = [e for e in (text.find(c, k, hi) for c in chars) if e >= 0]
    if found:
        return min(found)
    if hi >= len(text):
        return -1
    found = [e for e in (text.find(c, hi) for c in chars) if e >= 0]
    return min(found, default=-1)


def sentence_start(text: str, i: int) -> int:
    """Where the sentence holding offset i starts (after 。 or ；)."""
    return last_of(text, "。；;", 0, i) + 1


def sentence_end(text: str, k: int) -> int:
    """Where the sentence running on from offset k ends (its 。 or ；, else the end of the text)."""
    e = first_of(text, "。；;", k)
    return len(text) if e < 0 else e


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
    paras: list,
    subject: str,
    unit: str,
    near: object = None,
    before: int | None = None,
    accept: object = None,
    among: tuple[str, Callable[[Num], bool]] | None = None,
) -> Num | None:
    """The one quantity whose label names `subject` (see `_names`), in a unit of the same measure: looked for
    first in the paragraph `near` (before offset `before`), then in the whole Unit. None when none or several
    values answer. `among` (a name and a test) restricts the quantities like `accept`, by an index kept per name."""
    key = subject_key(subject)
    if len(key) < 2:
        return None
    scopes = ([[near]] if near is not None else []) + [paras]
    for scope in scopes:
        index = _NameIndex.of(scope if scope is paras else near, among)
        for tier in range(4):
            # The labels that can name the key are looked up, not every number of the Unit tried in turn.
            found: tuple[tuple[int, int], Num] | None = None
            value = None
            for pos, n in index.candidates(tier, key):
                if not compatible(n.unit, unit):
                    continue
                if scope is not paras and before is not None and n.k > before:
                    continue
                if (callable(accept) and not accept(n)) or not _names(tier, key, n):
                    continue
                v = n.value * scale(n.unit)
                if found is None:
                    value = v
                elif v != value:
                    return None  # several values answer
                if found is None or pos > found[0]:
                    found = (pos, n)
            if found is not None:
                return found[1]
    return None


class _NameIndex:
    """The quantities of some paragraphs (those with a unit other than %) by the key of their label."""

    def __init__(self, paras: list, test: Callable[[Num], bool] | None = None) -> None:
        self.by_key: dict[str, list[tuple[tuple[int, int], Num]]] = {}
        self.by_bare: dict[str, list[tuple[tuple[int, int], Num]]] = {}
        for pi, p in enumerate(paras):
            for ni, n in enumerate(numbers(p)):
                if n.unit and n.unit != "%" and (test is None or test(n)):
                    k = subject_key(n.label)
                    self.by_key.setdefault(k, []).append(((pi, ni), n))
                    self.by_bare.setdefault(k.replace("支出", ""), []).append(((pi, ni), n))
        self.keys = sorted(self.by_key)
        self.reversed = sorted(k[::-1] for k in self.by_key)

    @staticmethod
    def of(scope: object, among: tuple[str, Callable[[Num], bool]] | None = None) -> _NameIndex:
        """The index of a paragraph list or of one paragraph (of the quantities `among` names), built once and
        kept with it."""
        paras = scope if isinstance(scope, list) else [scope]
        memo = getattr(scope, "__dict__", None)
        if memo is None:
            return _NameIndex(paras, among[1] if among else None)
        name = "_name_index" + (among[0] if among else "")
        token = (len(paras), id(numbers(paras[0])) if paras else 0)
        cached = memo.get(name)
        if cached is None or cached[0] != token:
            cached = (token, _NameIndex(paras, among[1] if among else None))
            memo[name] = cached
        return cached[1]  # type: ignore[no-any-return]

    def candidates(self, tier: int, key: str) -> list[tuple[tuple[int, int], Num]]:
        """The quantities whose label may name `key` at this tier of `_names` (a superset, in no order)."""
        if tier == 0:
            return self.by_key.get(key, [])
        if tier == 1:
            bare = key.replace("支出", "")
            return self.by_bare.get(bare, []) if len(bare) >= 4 else []
        out: list[tuple[tuple[int, int], Num]] = []
        if tier == 2:
            # a label's key ending the subject's, or the subject's ending a longer label key
            for size in range(4, len(key) + 1):
                out.extend(self.by_key.get(key[-size:], []))
            if len(key) >= 4:
                for rk in _prefixed(self.reversed, key[::-1]):
                    if len(rk) > len(key):
                        out.extend(self.by_key[rk[::-1]])
            return out
        if len(key) >= 6:
            for k in _prefixed(self.keys, key):
                out.extend(self.by_key[k])
        return out


def _prefixed(ordered: list[str], prefix: str) -> list[str]:
    """The strings of a sorted list that start with `prefix`."""
    lo = bisect_left(ordered, prefix)
    hi = lo
    while hi < len(ordered) and ordered[hi].startswith(prefix):
        hi += 1
    return ordered[lo:hi]


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
        text = folded(n.span)
        sentence = re.sub(r"[“”\"'‘’\s]", "", text[sentence_start(text, n.i) : n.i])
        return long_ == key and key[:4] in sentence
    return len(key) >= 6 and k.startswith(key)
