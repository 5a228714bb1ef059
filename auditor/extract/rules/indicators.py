"""Indicators: performance indicator rows (target, actual, score, reason) and prose claims that a target was beaten."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import NUM, UNIT, cell_quantity, folded
from auditor.facts import Evidence, Facts, Indicator, Quantity
from auditor.layout import Para, Row, Span, Table
from auditor.numbers import fold, parse

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
    """Sentences setting an achieved value against a threshold (X率为A%，大于B%): the text claims it beat it."""
    out: list[Indicator] = []
    for p in paras:
        text = folded(p)
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
    score = cell_quantity(score_cell, "得分", cells[name_i], default_unit="分") if score_cell else None
    max_score = cell_quantity(max_cell, "分值", cells[name_i], default_unit="分") if max_cell else None
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


@register("indicators.table")
def table_indicators(ctx: Context) -> Facts:
    """Indicator rows under a header with 指标值 and 实际完成值 columns."""
    return Facts(indicators=_indicator_tables(ctx.tables))


@register("indicators.prose")
def prose_indicators(ctx: Context) -> Facts:
    """Sentences that set an achieved value against a threshold (X为A%，高于B%)."""
    return Facts(indicators=_prose_comparisons(ctx.paras))


# "name [op] target, 实际(完成) actual": a target and what was achieved, side by side in a sentence.
_TARGET_ACTUAL = re.compile(
    rf"(?P<name>[\u4e00-\u9fff()（）]{{2,24}}?)(?:目标值?|指标值?)?(?:为)?"
    rf"(?P<op>大于等于|不低于|不少于|大于|高于|超过|小于等于|不高于|不超过|小于|低于|≥|≤|>|<)?\s*"
    rf"(?P<t>{NUM})(?:\s*[-—~～至]\s*(?P<t2>{NUM}))?\s*(?P<ut>%|/10万|{UNIT}|[\u4e00-\u9fff]{{1,2}}?)?\s*[,，]?\s*"
    rf"实际(?:完成|达到|为)?\s*(?P<a>{NUM})\s*(?P<ua>%|/10万?|{UNIT}|[\u4e00-\u9fff]{{1,2}}?)?(?=[,，。；;\s]|$|[\u4e00-\u9fff])"
)
_PROSE_OPS = {
    "大于等于": ">=", "不低于": ">=", "不少于": ">=", "≥": ">=", "大于": ">", "高于": ">", "超过": ">", ">": ">",
    "小于等于": "<=", "不高于": "<=", "不超过": "<=", "≤": "<=", "小于": "<", "低于": "<", "<": "<",
}  # fmt: skip
# A rate where less is better: without a written operator its target's direction is not known.
_LOWER_BETTER = re.compile(r"错误|差错|发生|死亡|投诉|超标|不良|流失|事故|损失|成本|费用")


@register("indicators.targets")
def prose_targets(ctx: Context) -> Facts:
    """A target and the value achieved against it in one sentence (初筛调查完成率100%，实际完成107%)."""
    out: list[Indicator] = []
    for p in ctx.paras:
        text = folded(p)
        for m in _TARGET_ACTUAL.finditer(text):
            ut, ua = m.group("ut") or "", m.group("ua") or ""
            if not (ut == ua or (ut and ua and (ut.startswith(ua) or ua.startswith(ut)))):
                continue  # the target and the actual count different things
            if ut in {"年", "月", "日"}:
                continue
            op = _PROSE_OPS.get(m.group("op") or "", "range" if m.group("t2") else "")
            name = m.group("name")
            if not op:
                if _LOWER_BETTER.search(name):
                    continue
                op = ">="
            s, e = p.doc_span(m.start(), m.end())
            ev = Evidence(quote="", start=s, end=e)
            unit = "%" if ut == "%" else ""

            out.append(
                Indicator(
                    name=name,
                    op=op,  # type: ignore[arg-type]
                    target=_q(m, "t", unit, ev, "目标"),
                    target_high=_q(m, "t2", unit, ev, "目标上限") if m.group("t2") else None,
                    target_text=m.group(0)[: m.start("a") - m.start()],
                    actual=_q(m, "a", unit, ev, "实际"),
                    actual_text=m.group("a") + ua,
                    evidence=ev,
                )
            )
    return Facts(indicators=out)


def _q(m: re.Match[str], group: str, unit: str, ev: Evidence, label: str) -> Quantity:
    value, decimals = parse(m.group(group))  # type: ignore[misc]
    return Quantity(value=value, unit=unit, text=m.group(group), decimals=decimals, evidence=ev, label=label)
