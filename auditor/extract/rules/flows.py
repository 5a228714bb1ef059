"""Fund flows: the money of a fund for the year, from prose passages and from 自评表 money rows."""

from __future__ import annotations

import re
from decimal import Decimal

from auditor.extract.rules import Context, register
from auditor.extract.rules.scan import (
    MARKER,
    MONEY,
    NUM,
    Num,
    between,
    cell_quantity,
    folded,
    numbers,
    quantity,
    sentences,
    style,
)
from auditor.facts import Facts, FundFlow, FundMention, Quantity, SumClaim, fund_kind
from auditor.layout import Para, Table
from auditor.numbers import fold

# A label names one field of a fund's money; the first pattern that matches decides, "" means none.
_FLOW_RULES: list[tuple[str, str]] = [
    (r"较|增加$|减少$|增长$|下降$|压减$|提高$|节约$|追加$", ""),
    # Money paid on to others (向各机构拨付, 下拨至) has left the fund: it is neither received nor spent by it.
    (r"向\S{0,16}拨付|拨付(?:至|给|到)|下拨", ""),
    (r"(?:上年|年初)结转(?:和)?结余|上年结余|年初结余", "prior_balance"),
    (r"滚存结余|年末结余总额", "closing_balance"),
    # this year's income beside the carryover in a 收入总计 list is the year's allocation
    (r"本年收入", "income"),
    (r"上年结余", "prior_balance"),
    (r"累计结余|结余率|结余占", ""),
    (r"执行率", "rate"),
    (r"结转.{0,6}支出", "spent_carryover"),
    # Spending of this year's allocation (当年下达资金支出), not this year's total spending (本年支出).
    (r"(当年|本年)\S{0,4}(下达|安排|拨付|资金|拨款)\S{0,4}支出", "spent_current"),
    (r"上年结转|结转至本年", "carryover"),
    (r"结转结余|结余|结转", "balance"),
    (r"支出预算|全年预算|预算总额|预算金额|预算资金", "budget"),
    (r"年初预算|预算收入|预算支出|预算数|非税|采购|一般性|人均", ""),
    (r"共计|合计|总计|可用资金|可支配资金", "available"),
    (r"支出|执行数|已支付|支付", "spent"),
    (r"下达|收入|到位|投入|拨付|安排", "allocated"),
]


def flow_field(label: str, unit: str, in_list: bool) -> str:
    """The FundFlow field a labelled amount fills ("" for none); parts of a 其中 list fill no total's field."""
    if unit == "%":
        # a named project's or the procurement's rate is another line's (设备购置项目执行率); 该项目/项目 is this one
        other = re.search(r"采购|[\u4e00-\u9fff]{2,}项目", label)
        return "rate" if re.search(r"执行率", label) and not other else ""
    if unit not in MONEY:
        return ""
    for pattern, fld in _FLOW_RULES:
        if re.search(pattern, label):
            if in_list and fld in {"spent", "allocated", "available", "budget"}:
                return ""
            if fld == "available" and re.search(r"支出|收入", label):
                return ""
            return "allocated" if fld == "income" else fld
    return ""


def _other_year(text: str, a: int, n: Num, year: str) -> bool:
    """The number belongs to another year than the report's (a year named before it, or 上年/去年)."""
    clause = text[max(a, text.rfind("，", 0, n.i) + 1 if "，" in text[a : n.i] else a) : n.i]
    years = set(re.findall(r"(20\d\d)\s*年", text[a : n.i]))
    if year and years and year not in years:
        return True
    return bool(re.search(r"上年|去年|上一年", clause)) and not re.search(r"上年结转|上年结余|结转至本年", clause)


def para_flow(p: Para, year: str = "") -> dict[str, Quantity]:
    """The fund-flow fields one paragraph states; the parts of a 其中 list (up to its ；) are not."""
    # The rate readers ask again for each rate of the paragraph: read it once.
    memo = p.__dict__.setdefault("_flow", {})
    key = (p.text, year)
    if key not in memo:
        memo.clear()
        memo[key] = _para_flow(p, year)
    return dict(memo[key])


def _para_flow(p: Para, year: str) -> dict[str, Quantity]:
    found: dict[str, Quantity] = {}
    text = folded(p)
    nums = numbers(p)
    for a, b in sentences(p):
        for n in between(nums, a, b):
            if _other_year(text, a, n, year):
                continue
            k = text.rfind("其中", a, n.i)
            in_list = k >= 0 and not re.search(r"[；;]", text[k : n.i])
            fld = flow_field(n.label, n.unit, in_list)
            if fld and fld not in found:
                found[fld] = quantity(n)
    if "rate" in found and not ({"spent", "allocated", "budget", "spent_current"} & found.keys()):
        del found["rate"]  # a rate with no money beside it belongs to some other line
    # 年初结转和结余 … 年末结转和结余: the year-end figure rolls the opening one on, it is the closing balance.
    if "prior_balance" in found and "balance" in found and "closing_balance" not in found:
        if re.search(r"年末|期末", found["balance"].label) and re.search(r"年初|期初", found["prior_balance"].label):
            found["closing_balance"] = found.pop("balance")
    # A this-year surplus followed by a year-end figure: the year-end figure is the closing balance.
    this_year = "balance" in found and re.search(r"收支结余|本年结余|当年结余", found["balance"].label)
    if this_year and "closing_balance" not in found:
        for n in nums:
            if n.unit in MONEY and re.search(r"年末.{0,4}结(?:转结)?余", n.label) and n.i > 0:
                found["closing_balance"] = quantity(n)
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


@register("flows.prose")
def prose_flows(ctx: Context) -> Facts:
    """Fund flows stated in prose.

    Passages about one fund are merged (the allocation in one section, the spending in the next); a
    numbered item with its own money is a flow of its own; a passage that restates a field with another
    value starts a new flow.
    """
    flows: list[FundFlow] = []
    current: dict[str, Quantity] = {}
    last_idx = -10
    fund = ctx.fund
    kind = fund_kind(fund)

    def close() -> None:
        if len(current) >= 2:
            flows.append(FundFlow(name=fund or "资金", **current))
        current.clear()

    for idx, p in enumerate(ctx.paras):
        found = para_flow(p, ctx.year)
        if not found:
            continue
        mk = MARKER.match(p.text)
        first = min(q.evidence.start or 0 for q in found.values()) - p.start
        lead = p.text[mk.end() : max(mk.end(), first)] if mk else ""
        if mk and style(mk.group("m")) in {"d", "pd", "circ"} and len(found) >= 2 and len(lead) <= 20:
            item = re.sub(r"^\W*", "", MARKER.sub("", p.text))[:20]
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
    return Facts(fund_flows=flows)


_FUND_HDR = re.compile(r"预算数|执行数|执行率")
_PART_ROW = r"其中|地方|其他|中央|省级|市级|县级"


@register("flows.table")
def table_flows(ctx: Context) -> Facts:
    """自评表 money rows under a 全年预算数 / 全年执行数 / 预算执行率 header, and their 总额 = 其中 sums."""
    flows: list[FundFlow] = []
    sums: list[SumClaim] = []
    for t in ctx.tables:
        unit = table_money_unit(t)
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
                q = cell_quantity(r.cells[i], name, r.cells[label_i]) if i < len(r.cells) else None
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
    return Facts(fund_flows=flows, sums=sums)


def table_money_unit(t: Table) -> str:
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


@register("flows.mentions")
def fund_mentions(ctx: Context) -> Facts:
    """Amounts the text attributes to a named fund family (到位/下达/支出 of 城乡居民医保资金 ...)."""
    out: list[FundMention] = []
    for p in ctx.paras:
        for n in numbers(p):
            if n.unit not in MONEY or not fund_kind(n.label):
                continue
            if not re.search(r"到位|收入|下达|支出|拨付|安排", n.label):
                continue
            out.append(FundMention(fund=n.label, amount=quantity(n)))
    return Facts(fund_mentions=out)
