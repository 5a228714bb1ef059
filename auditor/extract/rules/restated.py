"""Restatements in prose: a figure the report states again later under the same name (a lead sentence and
the body, the summary and the detail), which must be the same number."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import (
    Num,
    compatible,
    family,
    numbers,
    quantity,
    sentence_end,
    sentence_start,
    subject_key,
)
from auditor.facts import Facts, Restatement
from auditor.numbers import fold

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
    seen: dict[tuple[str, str], list[tuple[Num, frozenset[str]]]] = {}
    # keys by their last four characters: a name nested in another ends the same way
    tails: dict[tuple[str, str], set[str]] = {}
    out: list[Restatement] = []
    for p in ctx.paras:
        text = fold(p.text)
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
            earlier = seen.setdefault((key, measure), [])
            # the same figure under a longer name (现已追回… for 追回…): one figure told twice
            bucket = tails.setdefault((key[-4:], measure), set())
            alike = [x for k in bucket if k != key and _nested(k, key) for x in seen[(k, measure)]]
            bucket.add(key)
            for first, first_years in earlier + [x for x in alike if x[0].value == n.value]:
                if (first_years != years and first.value != n.value) or (
                    first.span is n.span and _same_sentence(text, first, n)
                ):
                    continue  # other years are other figures, unless the figure is simply told again
                if first.value != n.value and not (_specific(key, n.unit) and _slip(first.text, n.text)):
                    continue  # two different figures under one (short) name, not one figure miswritten
                out.append(
                    Restatement(
                        label=f"“{key}”",
                        first=quantity(n),
                        second=quantity(first),
                        where="prose",
                    )
                )
                break
            earlier.append((n, years))
    return Facts(restatements=out + _by_document(ctx))


# A document cited by its number (〔2023〕41号, 【2023】41号文件), then what it allocated: 下达…N万元.
_DOC = re.compile(r"[〔【\[(（]\s*(?:19|20)\d\d\s*[〕】\])）]\s*\d+\s*号")


def _by_document(ctx: Context) -> list[Restatement]:
    """The amount a document allocated, cited twice: the same document cannot allocate two amounts."""
    cited: dict[str, list[Num]] = {}
    for p in ctx.paras:
        text = fold(p.text)
        nums = numbers(p)
        for m in _DOC.finditer(text):
            end = sentence_end(text, m.end())
            after = text[m.end() : end]
            money = [n for n in nums if m.end() <= n.i < end and compatible(n.unit, "万元")]
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
