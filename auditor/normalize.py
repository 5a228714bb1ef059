"""Normalised text for the readers: simplified characters, ASCII digits and punctuation, Arabic numerals.

Every step is a rewrite that keeps, for each output character, the offset of the input character it
came from, so a number read in normalised text still has its evidence in the original document.
Readers never see: traditional characters (萬元, 預算), pinyin glosses mirror sites insert (醫(yī)療),
full-width forms, LaTeX and markdown left by converters, digits split by stray spaces, escaped line
breaks, numbers written in Chinese (一百万元, 百分之九十, 壹佰贰拾万元), or a bare 万 after an amount.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal

Text = tuple[str, list[int]]


def rewrite(text: str, offs: list[int], pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]) -> Text:
    """Substitute `pattern`; the characters of a replacement spread over the offsets of what they replace.

    Spreading (rather than pinning every new character to the first replaced one) keeps a number's
    evidence whole: "一百" rewritten as "100" still quotes both characters.
    """
    if not pattern.search(text):
        return text, offs
    out: list[str] = []
    out_offs: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        new = repl if isinstance(repl, str) else repl(m)
        out.append(text[pos : m.start()])
        out_offs.extend(offs[pos : m.start()])
        src = offs[m.start() : m.end()] or offs[m.start() : m.start() + 1] or offs[-1:]
        for k in range(len(new)):
            out_offs.append(src[-1] if k == len(new) - 1 else src[k * len(src) // len(new)])
        out.append(new)
        pos = m.end()
    out.append(text[pos:])
    out_offs.extend(offs[pos:])
    return "".join(out), out_offs


def _per_char(text: str, offs: list[int], convert: Callable[[str], str]) -> Text:
    """Apply a character-level conversion; a character that becomes several keeps its offset for each."""
    out: list[str] = []
    out_offs: list[int] = []
    for ch, o in zip(text, offs, strict=True):
        new = convert(ch)
        out.append(new)
        out_offs.extend([o] * len(new))
    return "".join(out), out_offs


# ----------------------------------------------------------------------------- characters

# A pinyin gloss a mirror site inserts after a converted character: 醫(yī)療, 網(wǎng)站. A tone mark
# tells it from a real parenthesis such as (A) or (含).
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_GLOSS = re.compile(rf"(?<=[\u4e00-\u9fff])\((?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}\)")


def _fold(ch: str) -> str:
    """Full-width forms and the ideographic space by NFKC; every other character unchanged.

    NFKC on the whole text would also turn ① into 1 and m² into m2, which are not the same text.
    """
    if "\uff01" <= ch <= "\uff5e" or ch == "\u3000":
        return unicodedata.normalize("NFKC", ch)
    return ch


# Each of these characters folds to exactly one, so the fold is a translation that keeps every offset.
_FOLD_TABLE = {c: _fold(chr(c)) for c in [*range(0xFF01, 0xFF5F), 0x3000]}


@functools.cache
def _t2s() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert  # type: ignore[no-any-return]


def _simplify(text: str, offs: list[int]) -> Text:
    """Traditional to simplified characters (OpenCC t2s); phrase rules that change the length fall back to per char."""
    convert = _t2s()
    out = convert(text)
    if len(out) == len(text):
        return out, offs
    return _per_char(text, offs, convert)


# ----------------------------------------------------------------------------- converter debris

_DEBRIS: list[tuple[re.Pattern[str], str]] = [
    # LaTeX from PDF-to-markdown tools and bold markers.
    (re.compile(r"\\geq?\b|\\ge(?=\s|\d|\$)"), "≥"),
    (re.compile(r"\\leq?\b|\\le(?=\s|\d|\$)"), "≤"),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\times\b"), "×"),
    (re.compile(r"\$"), ""),
    (re.compile(r"\*\*"), ""),
    # Line breaks a scraper escaped instead of keeping ("12.5\r\n万元").
    (re.compile(r"(?:\\r)?\\n"), ""),
    # A question mark an encoder left for a character it could not map, right after a number or its unit.
    (re.compile(r"(?<=[\d万元%])\?+(?=[\s，,。；;、)）]|$)"), ""),
    # Digits split by a stray space in a PDF text layer ("1 084.40万元", "90. 48").
    (re.compile(r"(?<=\d) (?=\d{3}(?:\.\d+)?\s*(?:亿元|万元|元|万人|人次|人|%|家|个|户|笔))"), ""),
    (re.compile(r"(?<=\d\.) (?=\d)|(?<=\d) (?=\.\d)"), ""),
]


# ----------------------------------------------------------------------------- numbers written in Chinese

_CN_DIGIT = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖貳參陸"
_CN_UNIT = "十百千万亿拾佰仟萬億"
_CN_RUN = rf"[{_CN_DIGIT}{_CN_UNIT}]+(?:点[{_CN_DIGIT}]+)?"
# Units a Chinese numeral is read before; a lone 一/两 before 个/次 is a word (一个季度, 两次), so a
# numeral of one character counts only before money and people.
_CN_AFTER = r"亿元|万元|元|万人次|人次|万人|人|户|家|个|项|次|分|所|座|条|批|辆"
_CN_NUMBER = re.compile(
    rf"百分之(?P<pct>{_CN_RUN})|(?<![第{_CN_DIGIT}{_CN_UNIT}])(?P<num>{_CN_RUN})(?=(?P<unit>{_CN_AFTER}))"
)


def chinese_number(run: str) -> Decimal | None:
    """The exact value of a numeral written in Chinese (一百九十万零三千九百七十一, 壹拾万零叁仟, 十六点四).

    cn2an finds the integer value (its float path loses precision, so the decimals are read digit by
    digit here); None when the run is not a well-formed numeral.
    """
    import cn2an

    scaled = re.fullmatch(r"(.+点.+?)([万亿萬億]+)", run)
    if scaled:
        body = chinese_number(scaled.group(1))
        scale = Decimal(1)
        for ch in scaled.group(2):
            scale *= Decimal(10000) if ch in "万萬" else Decimal(100000000)
        return None if body is None else body * scale
    whole, _, frac = run.partition("点")
    try:
        value = Decimal(int(cn2an.cn2an(whole, "normal"))) if whole else Decimal(0)
        digits = "".join(str(int(cn2an.cn2an(ch, "normal"))) for ch in frac)
    except (ValueError, KeyError, TypeError):
        return None
    return value + Decimal(f"0.{digits}") if digits else value


def _plain(value: Decimal) -> str:
    s = format(value, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _numeral(m: re.Match[str]) -> str:
    if m.group("pct"):
        value = chinese_number(m.group("pct"))
        return m.group(0) if value is None else _plain(value) + "%"
    run, unit = m.group("num"), m.group("unit")
    if len(run) == 1 and not re.match(r"亿元|万元|元|万人|人", unit):
        return run
    if not any(c in _CN_DIGIT for c in run):
        return run  # 千万 / 十分: words, not numbers
    value = chinese_number(run)
    if value is None:
        return run
    return _plain(value)


# The amount before a unit that carries its own scale (一百万元 is 100 万元): the numeral ends before
# the scale character, or the scale is part of a larger numeral (一亿二千万元 is 12000 万元).
_SCALED = re.compile(rf"(?P<run>[{_CN_DIGIT}{_CN_UNIT}]+?(?:点[{_CN_DIGIT}]+)?)(?P<scale>[万亿萬億])(?=元|人)")


def _scaled(m: re.Match[str]) -> str:
    run, scale = m.group("run"), m.group("scale")
    if not any(c in _CN_DIGIT for c in run):
        return m.group(0)
    value = chinese_number(run + scale)
    if value is None:
        return m.group(0)
    factor = Decimal(10000) if scale in "万萬" else Decimal(100000000)
    return _plain(value / factor) + scale


# ----------------------------------------------------------------------------- 万 after an amount

# "资金2640万)": a 万 that ends an amount (punctuation or a function word follows) is 万元; before a
# noun it scales that noun (102.6万个, 4.26万亿元) and stays as written.
_BARE_WAN = re.compile(r"(?<=\d)万(?=[^\u4e00-\u9fff]|$|[的用已全为共])")


def normalize(text: str, offs: list[int]) -> Text:
    """The normalised text of `text`, whose i-th character stands at document offset offs[i]."""
    text, offs = rewrite(text, offs, _GLOSS, "")
    text = text.translate(_FOLD_TABLE)
    text, offs = _simplify(text, offs)
    for pattern, repl in _DEBRIS:
        text, offs = rewrite(text, offs, pattern, repl)
    text, offs = rewrite(text, offs, _SCALED, _scaled)
    text, offs = rewrite(text, offs, _CN_NUMBER, _numeral)
    text, offs = rewrite(text, offs, _BARE_WAN, "万元")
    return text, offs


def normalized(text: str) -> str:
    """Just the normalised text (for matching a quote against what the readers read)."""
    return normalize(text, list(range(len(text))))[0]
