"""Restatements in prose: a figure the report states again later under the same name (a lead sentence and
the body, the summary and the detail), which must be the same number."""

from __future__ import annotations

import re
from decimal import Decimal

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import (
    Num,
    between,
    compatible,
    family,
    folded,
    numbers,
    quantity,
    sentence_end,
    sentence_start,
    subject_key,
)
from auditor.facts import Facts, Restatement

# Names too general to say which amount they are (资金, 补助 …): a figure under such a name is not matched.
_GENERIC = re.compile(
    r"^(?:补助|专项|项目|中央|省级|市级|县级|本级|财政|合计|总计|共计|其中|预算|支出|收入|结余|下达|到位|安排)+$"
)
# A figure that compares, changes or shares is not the amount its name names.
_NOT_A_STATEMENT = re.compile(
    r"比上年|较上年|同比|相比|增加|减少|增长|下降|降低|压减|提高|上升|占|超|不低于|不少于|不超过|以上|以下|目标|计划|任务|标准|每|人均|户均|平均"
)
_YEAR = re.compile(r"(?:19|20)\d\d\s*年|上年|去年|上一年|本年|当年")


@register("restated.prose")
def prose_restatements(ctx: Context) -> Facts:
    """The same named figure in two sentences of the text: the later one restates the earlier."""
    seen: dict[tuple[str, str], _Seen] = {}
    # keys by their last four characters: a name nested in another ends the same way
    tails: dict[tuple[str, str], set[str]] = {}
    out: list[Restatement] = []
    for p in ctx.paras:
        text = folded(p)
        for n in numbers(p):
            if not n.unit or n.unit == "%":
                continue
            clause = text[n.label_start : n.i]
            key = subject_key(n.label)
            if n.unit == "分" or len(key) < 4 or _GENERIC.match(key) or _NOT_A_STATEMENT.search(clause):
                continue  # scores are the score readers'
            start = sentence_start(text, n.i)
            if re.search(r"[(（][^)）]*$", text[start : n.i]):
                continue  # inside parentheses: an aside, often another scope
            years = frozenset(re.sub(r"\s", "", y) for y in _YEAR.findall(text[start : n.i]))
            measure = family(n.unit)
            earlier = seen.setdefault((key, measure), _Seen())
            # the same figure under a longer name (现已追回… for 追回…): one figure told twice
            bucket = tails.setdefault((key[-4:], measure), set())
            first = earlier.restated(text, n, years, _specific(key, n.unit))
            if first is None:
                alike = (seen[(k, measure)].by_value.get(n.value, []) for k in bucket if k != key and _nested(k, key))
                first = next((x for xs in alike for _, x, _ in xs if not _told_again(text, x, n)), None)
            bucket.add(key)
            if first is not None:
                out.append(Restatement(label=f"“{key}”", first=quantity(n), second=quantity(first), where="prose"))
            earlier.add(n, years)
    return Facts(restatements=out + _by_document(ctx))


class _Seen:
    """The figures seen under one name, found by value and by their digits rather than by a pass over all."""

    def __init__(self) -> None:
        self.count = 0
        self.by_value: dict[Decimal, list[tuple[int, Num, frozenset[str]]]] = {}
        self.by_digits: dict[str, list[tuple[int, Num, frozenset[str]]]] = {}

    def add(self, n: Num, years: frozenset[str]) -> None:
        entry = (self.count, n, years)
        self.count += 1
        self.by_value.setdefault(n.value, []).append(entry)
        self.by_digits.setdefault(_digits(n.text), []).append(entry)

    def restated(self, text: str, n: Num, years: frozenset[str], specific: bool) -> Num | None:
        """The earliest figure `n` restates: the same value told in another sentence, or (under a specific
        name, in the same years) a slip of the pen away from it."""
        best: tuple[int, Num] | None = None
        for k, x, _ in self.by_value.get(n.value, []):
            if not _told_again(text, x, n):
                best = (k, x)
                break
        if specific:
            for digits in _slips(_digits(n.text)):
                for k, x, x_years in self.by_digits.get(digits, []):
                    if best is not None and k >= best[0]:
                        break
                    if x.value == n.value or x_years != years or _told_again(text, x, n) or not _slip(x.text, n.text):
                        continue
                    best = (k, x)
                    break
        return best[1] if best is not None else None


def _told_again(text: str, first: Num, n: Num) -> bool:
    """Two figures of one sentence: a figure told twice there is not a restatement."""
    return first.span is n.span and _same_sentence(text, first, n)


def _digits(number: str) -> str:
    return re.sub(r"[^\d.]", "", number)


def _slips(d: str) -> list[str]:
    """Every writing a slip of the pen (`_slip`) away from the digits `d`: one digit changed, two swapped."""
    places = [i for i, c in enumerate(d) if c != "."]
    out = []
    if len(places) >= 4:
        out += [d[:i] + c + d[i + 1 :] for i in places for c in "0123456789" if c != d[i]]
    if len(places) >= 3:
        out += [d[:i] + d[i + 1] + d[i] + d[i + 2 :] for i in places if i + 1 < len(d) and d[i + 1] not in {".", d[i]}]
    return out


# A document cited by its number (〔2023〕41号, 【2023】41号文件), then what it allocated: 下达…N万元.
_DOC = re.compile(r"[〔【\[(（]\s*(?:19|20)\d\d\s*[〕】\])）]\s*\d+\s*号")


def _by_document(ctx: Context) -> list[Restatement]:
    """The amount a document allocated, cited twice: the same document cannot allocate two amounts."""
    cited: dict[str, list[Num]] = {}
    for p in ctx.paras:
        text = folded(p)
        nums = numbers(p)
        for m in _DOC.finditer(text):
            end = sentence_end(text, m.end())
            after = text[m.end() : end]
            money = [n for n in between(nums, m.end(), end) if compatible(n.unit, "万元")]
            if len(money) == 1 and "下达" in after and not _DOC.search(after):
                cited.setdefault(re.sub(r"\s", "", m.group()), []).append(money[0])
    out = []
    for doc, amounts in cited.items():
        for later in amounts[1:]:
            out.append(
                Restatement(label=f"文件{doc}下达", first=quantity(amounts[0]), second=quantity(later), where="prose")
            )
    return out


def _same_sentence(text: str, a: Num, b: Num) -> bool:
    return not re.search(r"[。；;]", text[a.k : b.i])


def _specific(key: str, unit: str) -> bool:
    """A name long enough to say which figure it is, or a money total (资金总额)."""
    return len(key) >= 6 or (
        len(key) >= 4 and unit in {"元", "万元", "亿元"} and bool(re.search(r"总额|合计|总计", key))
    )


def _slip(a: str, b: str) -> bool:
    """Two writings of one figure that differ as a slip of the pen does: the same digits in the same places
    but for one changed digit or two swapped ones (4,989.66 for 4,998.66)."""
    da, db = re.sub(r"[^\d.]", "", a), re.sub(r"[^\d.]", "", b)
    if len(da) != len(db) or da.find(".") != db.find(".") or len(da.replace(".", "")) < 3:
        return False
    diff = [i for i, (x, y) in enumerate(zip(da, db, strict=True)) if x != y]
    if len(diff) == 1:
        return len(da.replace(".", "")) >= 4  # 300 and 700 are as likely two figures as one miswritten
    return len(diff) == 2 and diff[1] == diff[0] + 1 and da[diff[0]] == db[diff[1]] and da[diff[1]] == db[diff[0]]


def _nested(a: str, b: str) -> bool:
    return min(len(a), len(b)) >= 6 and (a.endswith(b) or b.endswith(a))
