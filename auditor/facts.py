"""The Facts both extractors produce: pydantic models, the contract between extract and check."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.intervals import Interval

SCHEMA_VERSION = "3"

# Whole numbers of these units are counted or awarded, not rounded: "4分" is exactly 4 points
# and "3家" exactly three; a decimal (7.24分, 104.45%) keeps the ±half-unit rounding range.
EXACT_UNITS = frozenset(
    {"分", "人", "家", "次", "个", "项", "条", "份", "人次", "家次", "笔", "例", "期", "场次", "场", "批", "批次"}
    | {"户", "台", "套", "辆", "所", "座", "处", "名", "件", "宗", "起", "篇", "株", "头", "张", "床", "间", "栋"}
)


# Fund families of the medical-insurance transfer payments; a report about one that states money
# "of" another has a wrong fund name (a template slip auditors look for).
FUND_KINDS: dict[str, str] = {
    "城乡居民医保": r"城乡居民(?:基本)?医(?:疗)?(?:保险|保)|居民医保|居民基本医疗保险",
    "医疗救助": r"医疗救助",
    "医疗服务与保障能力提升": r"服务与保障能力|保障能力提升|服务能力提升|服务能力建设|能力提升补助",
}


def fund_kind(name: str) -> str:
    """The fund family a name belongs to, or "" when it names none or several."""
    kinds = {k for k, pat in FUND_KINDS.items() if re.search(pat, name)}
    return kinds.pop() if len(kinds) == 1 else ""


# Units that measure one thing at different scales, as (base unit, factor to the base).
_SCALES: dict[str, tuple[str, Decimal]] = {
    "元": ("万元", Decimal("0.0001")),
    "千元": ("万元", Decimal("0.1")),
    "万元": ("万元", Decimal(1)),
    "亿元": ("万元", Decimal(10000)),
    "万亿元": ("万元", Decimal(100000000)),
}
for _u in ("人", "人次", "个", "家", "户", "亩", "吨", "张", "所", "项"):
    _SCALES[_u] = (_u, Decimal(1))
    _SCALES["万" + _u] = (_u, Decimal(10000))


def scale_of(unit: str) -> tuple[str, Decimal]:
    """(base unit, factor): 亿元 is (万元, 10000), 万人 is (人, 10000), a unit without scales is itself."""
    if unit not in _SCALES and len(unit) >= 2 and unit.startswith("万") and unit != "万元":
        return unit[1:], Decimal(10000)  # 万尾, 万册: ten thousand of the counted thing
    return _SCALES.get(unit, (unit, Decimal(1)))


def in_common_unit(qs: list[Quantity]) -> list[Interval] | None:
    """The quantities' intervals in their common base unit, or None when their units measure different things."""
    bases = {scale_of(q.unit)[0] for q in qs}
    if len(bases) != 1:
        return None
    return [q.interval.scale(scale_of(q.unit)[1]) for q in qs]


class Evidence(BaseModel):
    """Where a number stands: a verbatim quote and its character offsets in the file's text."""

    model_config = ConfigDict(frozen=True)

    quote: str = Field(description="原文中逐字摘录的片段，须包含该数字")
    start: int | None = Field(default=None, description="offset in the file's extracted text")
    end: int | None = None
    page: int | None = None


class Quantity(BaseModel):
    """A number as written in the report, with its unit, precision and evidence."""

    value: Decimal
    unit: str = Field(default="", description="万元, 元, 亿元, %, 人, 万人, 人次, 分, 家, 次, 个 ...")
    text: str = Field(description="the number exactly as written, e.g. '465.41' or '202,992'")
    decimals: int = 0
    evidence: Evidence
    label: str = Field(default="", description="what the report calls this number")

    @property
    def interval(self) -> Interval:
        if self.decimals == 0 and self.unit in EXACT_UNITS:
            return Interval.exact(self.value)
        return Interval.written(self.value, self.decimals)

    def shown(self) -> str:
        """The number with its unit, as a message shows it."""
        return f"{self.text}{self.unit}"


class FundFlow(BaseModel):
    """One fund line's money for the year; any field may be absent."""

    name: str = Field(description="the fund or table row as the report names it")
    allocated: Quantity | None = Field(default=None, description="当年下达 / 收入 / 到位")
    carryover: Quantity | None = Field(default=None, description="上年结转")
    available: Quantity | None = Field(default=None, description="合计 / 共计 / 总计 可用资金")
    budget: Quantity | None = Field(default=None, description="全年预算数")
    spent: Quantity | None = Field(default=None, description="实际支出 / 全年执行数")
    spent_carryover: Quantity | None = Field(default=None, description="结转资金支出")
    spent_current: Quantity | None = Field(default=None, description="当年下达资金支出")
    balance: Quantity | None = Field(default=None, description="结余 / 收支结余 / 年末资金结余 (this year)")
    prior_balance: Quantity | None = Field(default=None, description="上年结余")
    closing_balance: Quantity | None = Field(default=None, description="年末滚存结余")
    rate: Quantity | None = Field(default=None, description="stated 预算执行率")
    source: Literal["prose", "table", "sheet"] = Field(
        default="prose", description="prose, a 自评表 money row (table), or a row of any other table (sheet)"
    )
    inferred: bool = Field(
        default=False, description="the relation is implied by accounting, not stated (a balance rolled year to year)"
    )


class SumClaim(BaseModel):
    """A total and its parts; `exhaustive` is False when the parts may be a partial list."""

    label: str
    total: Quantity
    parts: list[Quantity]
    exhaustive: bool = True


class RatioClaim(BaseModel):
    """A percentage stated with what it is a ratio of: sum(numerator) ÷ sum(denominator)."""

    label: str
    rate: Quantity
    numerator: list[Quantity]
    denominator: list[Quantity]
    complement: bool = Field(default=False, description="rate is 1 − numerator ÷ denominator")
    excess: bool = Field(default=False, description="rate is numerator ÷ denominator − 1 (超任务X%)")


class ProductClaim(BaseModel):
    """An amount stated with the quantities it is the product or quotient of (人数 × 每人标准, 总额 ÷ 人数);
    `scale` turns the factors' unit into the amount's (0.0001 when 元 make 万元)."""

    label: str
    amount: Quantity
    factors: list[Quantity]
    divisors: list[Quantity] = Field(default_factory=list)
    scale: Decimal = Decimal(1)


class ItemCount(BaseModel):
    """A count stated with the items it counts named after it (下设7个科室：A、B、C…)."""

    label: str
    count: Quantity
    items: list[str]
    evidence: Evidence = Field(description="the list of names")


class ChangeClaim(BaseModel):
    """A change from one value to another, stated as an amount or a percentage; when last year's value is not
    stated, the amount of the change gives it (比上年增加A万元，增长X%: the base is this year's − A)."""

    label: str
    before: Quantity | None
    after: Quantity
    change: Quantity
    amount: Quantity | None = Field(default=None, description="the stated amount of a percentage change")
    direction: Literal[1, -1] = Field(description="1 for 增加/增长, -1 for 减少/压减/下降")
    relative: bool = Field(description="True when the change is a percentage of `before`")


class ScoreNode(BaseModel):
    """A node of the score tree: its weight, its score, its deduction and its children."""

    name: str
    level: int = 1
    max_score: Quantity | None = None
    score: Quantity | None = None
    deduction: Quantity | None = None
    not_applicable: bool = Field(default=False, description="不适用 / 不扣分: full marks for the weight")
    source: Literal["prose", "table"] = "prose"
    children: list[ScoreNode] = Field(default_factory=list)


class Indicator(BaseModel):
    """A performance indicator row with its target and what was achieved."""

    name: str
    levels: list[str] = Field(default_factory=list)
    op: Literal[">=", "<=", "=", ">", "<", "range", "text"] = "text"
    target: Quantity | None = None
    target_high: Quantity | None = None
    target_text: str = ""
    actual: Quantity | None = None
    actual_text: str = ""
    score: Quantity | None = None
    max_score: Quantity | None = None
    reason: str = Field(default="", description="未完成原因 as written, empty if none")
    has_reason_column: bool = False
    claimed_met: bool = Field(default=False, description="the text itself says the target was beaten (大于80%)")
    evidence: Evidence


class GradeBand(BaseModel):
    grade: str
    low: Decimal
    high: Decimal
    low_inclusive: bool = True
    high_inclusive: bool = False


class Rating(BaseModel):
    """The total score and the grade word the report gives it."""

    score: Quantity
    grade: str | None = None
    grade_evidence: Evidence | None = None
    bands: list[GradeBand] = Field(default_factory=list)


class Claim(BaseModel):
    """A sentence claiming every target was met (未偏离 / 圆满完成 / 全部完成)."""

    kind: Literal["no_deviation", "all_met"]
    evidence: Evidence


class Statement(BaseModel):
    """A qualitative statement about one subject (a table row): claimed on time, or admitted late."""

    subject: str
    kind: Literal["timely", "late"]
    evidence: Evidence


class FundMention(BaseModel):
    """An amount the text attributes to a fund it names."""

    fund: str = Field(description="the fund name as written next to the amount")
    amount: Quantity


class Restatement(BaseModel):
    """One figure stated twice: the same item in the text and in a table (or twice in the text)."""

    label: str
    first: Quantity
    second: Quantity
    sign: Literal[1, -1] = Field(default=1, description="-1 when the text states a decrease the table signs")
    where: Literal["table", "prose"] = Field(default="table", description="where the second statement stands")


class Facts(BaseModel):
    """Everything extracted from one Unit."""

    fund: str = Field(default="", description="the fund the Unit evaluates, from its title or table")

    fund_flows: list[FundFlow] = Field(default_factory=list)
    sums: list[SumClaim] = Field(default_factory=list)
    ratios: list[RatioClaim] = Field(default_factory=list)
    changes: list[ChangeClaim] = Field(default_factory=list)
    products: list[ProductClaim] = Field(default_factory=list)
    item_counts: list[ItemCount] = Field(default_factory=list)
    scores: list[ScoreNode] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    ratings: list[Rating] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    statements: list[Statement] = Field(default_factory=list)
    fund_mentions: list[FundMention] = Field(default_factory=list)
    restatements: list[Restatement] = Field(default_factory=list)
    dropped: int = Field(default=0, description="values dropped by grounding")


def quantities(obj: object) -> list[Quantity]:
    """Every Quantity inside a Facts tree (or any model or list of them), in field order."""
    if isinstance(obj, Quantity):
        return [obj]
    if isinstance(obj, list):
        return [q for item in obj for q in quantities(item)]
    if isinstance(obj, BaseModel):
        return [q for name in type(obj).model_fields for q in quantities(getattr(obj, name))]
    return []


def count_values(facts: Facts) -> int:
    """How many distinct numbers of the report the Facts hold (one number read into two relations counts once)."""
    return len({(q.evidence.start, q.evidence.end, q.text, q.unit) for q in quantities(facts)})
