"""The LLM extractor: Instructor over any OpenAI-compatible endpoint, chunked, cached, retried.

The model fills a simplified schema (numbers as written, each with a verbatim quote); it is
converted to auditor.facts models here. Offsets come from finding each quote in the chunk it
was read from, never from the model; the pipeline then grounds every value against the Unit.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import instructor
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import BaseModel, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from auditor.errors import ConfigError, LLMError
from auditor.extract import ExtractConfig, ExtractResult
from auditor.extract.cache import LLMCache, cache_key
from auditor.facts import (
    SCHEMA_VERSION,
    ChangeClaim,
    Claim,
    Evidence,
    Facts,
    FundFlow,
    FundMention,
    GradeBand,
    Indicator,
    Quantity,
    Rating,
    RatioClaim,
    ScoreNode,
    Statement,
    SumClaim,
)
from auditor.numbers import NUMBER_RE, canonical, fold, parse
from auditor.units import Unit

# Instructor logs every failed attempt at ERROR level; without a handler Python's last-resort
# handler would print those to the CLI's stderr. A NullHandler keeps them silent unless the
# application configures logging, and they still propagate to its handlers.
logging.getLogger("instructor").addHandler(logging.NullHandler())

LLM_SCHEMA_VERSION = "1"
DEFAULT_PROMPT = "extract_facts.md"
DEFAULT_CHUNK_CHARS = 6000
DEFAULT_REASK = 1
DEFAULT_BACKOFF = 1.0
DEFAULT_BACKOFF_MAX = 30.0
DEFAULT_RETRY_AFTER_MAX = 120.0
DEFAULT_MAX_TOKENS: int | None = None  # the server's own limit unless configured
_MODES = {"tools": instructor.Mode.TOOLS, "json": instructor.Mode.JSON, "md_json": instructor.Mode.MD_JSON}
_GRADES = {"优秀", "优", "良好", "良", "中等", "中", "合格", "及格", "差", "不合格"}
_RETRY_STATUS = {408, 409, 429}

# ----------------------------------------------------------------------------- the schema the model fills


class LQ(BaseModel):
    """一个数值：原文照抄的数字、单位，以及包含这个数字的原文片段。"""

    number: str = Field(description="数字，按原文照抄（如 1,133.73、104.45、６４０），不要计算、换算或四舍五入")
    unit: str = Field(default="", description="单位：万元、元、亿元、%、人、万人、人次、分、家、次、个 等；没有则留空")
    quote: str = Field(description="从原文逐字复制的一段连续文字（约10～40字），必须包含这个数字")
    label: str = Field(default="", description="原文对这个数的称呼，如 当年下达、实际支出、自评得分")


class LFundFlow(BaseModel):
    """一项资金在本年度的收支情况；原文没有的项目留空（null）。"""

    name: str = Field(description="资金名称或表格行名，如 年度资金总额、中央补助")
    allocated: LQ | None = Field(default=None, description="当年下达/到位/收入")
    carryover: LQ | None = Field(default=None, description="上年结转")
    available: LQ | None = Field(default=None, description="可用资金合计/共计/总计")
    budget: LQ | None = Field(default=None, description="全年预算数")
    spent: LQ | None = Field(default=None, description="实际支出/全年执行数")
    spent_carryover: LQ | None = Field(default=None, description="结转资金支出")
    spent_current: LQ | None = Field(default=None, description="当年下达资金支出")
    balance: LQ | None = Field(default=None, description="本年结余/收支结余/年末资金结余")
    prior_balance: LQ | None = Field(default=None, description="上年结余")
    closing_balance: LQ | None = Field(default=None, description="年末滚存结余")
    rate: LQ | None = Field(default=None, description="原文写明的预算执行率")
    source: Literal["prose", "table"] = Field(default="prose", description="prose=正文文字，table=自评表等表格的一行")


class LSum(BaseModel):
    """原文中的合计与其分项（其中……；合计；表格父行与子行；共3次=1+1+1）。"""

    label: str = Field(description="合计项的名称")
    total: LQ
    parts: list[LQ]
    exhaustive: bool = Field(default=True, description="分项是否列全；只列了部分（如“主要包括”）时为 false")


class LRatio(BaseModel):
    """原文写明的百分比及其分子、分母（如 完成比例104.45%，202,992/194,350）。"""

    label: str
    rate: LQ
    numerator: list[LQ]
    denominator: list[LQ]
    complement: bool = Field(default=False, description="百分比等于 1 − 分子÷分母 时为 true")


class LChange(BaseModel):
    """由前值变为后值，并写明变化量或变化率。"""

    label: str
    before: LQ
    after: LQ
    change: LQ
    direction: Literal["增加", "减少"]
    relative: bool = Field(description="变化量是相对前值的百分比时为 true")


class LScore(BaseModel):
    """评分体系中的一个指标（一级/二级/三级），用 id 和 parent 表示上下级。"""

    id: int = Field(description="本次回答内的编号，从1开始")
    parent: int | None = Field(default=None, description="上级指标的 id；一级指标为 null")
    name: str
    level: int = Field(default=1, description="1、2 或 3 级")
    max_score: LQ | None = Field(default=None, description="分值/满分/权重")
    score: LQ | None = Field(default=None, description="自评得分/实得分")
    deduction: LQ | None = Field(default=None, description="扣分")
    not_applicable: bool = Field(default=False, description="写明不适用或不扣分")
    source: Literal["prose", "table"] = Field(default="prose", description="prose=正文文字，table=评分表")


class LIndicator(BaseModel):
    """绩效指标表的一行：指标名称、指标值（目标）、实际完成值、得分、未完成原因。"""

    name: str
    levels: list[str] = Field(default_factory=list, description="一级、二级指标名称")
    op: Literal[">=", "<=", "=", ">", "<", "range", "text"] = Field(
        default="text", description="目标的比较方式；定性目标为 text；区间如 6-9 为 range"
    )
    target: LQ | None = None
    target_high: LQ | None = Field(default=None, description="区间目标的上限")
    target_text: str = Field(default="", description="指标值单元格原文")
    actual: LQ | None = None
    actual_text: str = Field(default="", description="实际完成值单元格原文")
    score: LQ | None = None
    max_score: LQ | None = None
    reason: str = Field(default="", description="未完成原因原文，没有则留空")
    has_reason_column: bool = Field(default=False, description="表格是否有“未完成原因”一栏")
    quote: str = Field(description="该行原文片段，逐字复制")


class LBand(BaseModel):
    """报告声明的等级区间，如 90（含）-100分为优。"""

    grade: str
    low: str
    high: str
    low_inclusive: bool = True
    high_inclusive: bool = False
    quote: str = Field(default="", description="声明该区间的原文片段，逐字复制")


class LRating(BaseModel):
    """总分及评定等级。"""

    score: LQ
    grade: str | None = Field(default=None, description="优、良、中、差 等原文用词")
    grade_quote: str = Field(default="", description="写出等级的原文片段")
    bands: list[LBand] = Field(default_factory=list)


class LClaim(BaseModel):
    """声称目标全部完成或未偏离的句子。"""

    kind: Literal["no_deviation", "all_met"]
    quote: str


class LStatement(BaseModel):
    """表格或正文中对某一事项的定性说明：称其及时（timely），或承认滞后（late）。"""

    subject: str = Field(description="所说的事项，如 下达及时性、资金拨付")
    kind: Literal["timely", "late"]
    quote: str


class LFundMention(BaseModel):
    """正文中归于某项具名资金的金额。"""

    fund: str = Field(description="金额旁边写的资金名称，按原文")
    amount: LQ


class ExtractedFacts(BaseModel):
    """从报告片段中抽取的全部数据。"""

    fund: str = Field(default="", description="本报告评价的资金名称，按标题或表格原文")
    fund_flows: list[LFundFlow] = Field(default_factory=list)
    sums: list[LSum] = Field(default_factory=list)
    ratios: list[LRatio] = Field(default_factory=list)
    changes: list[LChange] = Field(default_factory=list)
    scores: list[LScore] = Field(default_factory=list)
    indicators: list[LIndicator] = Field(default_factory=list)
    ratings: list[LRating] = Field(default_factory=list)
    claims: list[LClaim] = Field(default_factory=list)
    statements: list[LStatement] = Field(default_factory=list)
    fund_mentions: list[LFundMention] = Field(default_factory=list)


# Every list of Facts the converter fills, in reading order; a Facts field missing here is a test failure.
ITEM_LISTS = (
    "fund_flows",
    "sums",
    "ratios",
    "changes",
    "scores",
    "indicators",
    "ratings",
    "claims",
    "statements",
    "fund_mentions",
)
# Restatements (a table figure the text repeats) come from the rules' table readers; the model is not asked.
RULES_ONLY = ("restatements", "products", "item_counts")
HANDLED_FIELDS = frozenset({*ITEM_LISTS, *RULES_ONLY, "fund", "dropped"})
# The schema the model sees is part of the cache key, so editing a description cannot serve stale replies.
_SCHEMA_SHA = hashlib.sha256(
    json.dumps(ExtractedFacts.model_json_schema(), sort_keys=True, ensure_ascii=False).encode("utf-8")
).hexdigest()[:12]


# ----------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompt:
    """A prompt file: `version: N` on its first line, then `=== system ===` and `=== user ===` sections."""

    version: str
    system: str
    user: str
    sha: str

    def render(self, **values: str) -> str:
        # Plain replacement so braces in the template (JSON examples) need no escaping.
        out = self.user
        for k, v in values.items():
            out = out.replace("{" + k + "}", v)
        return out


def prompts_dir() -> Path:
    """The prompts shipped inside the package (auditor/prompts), or $AUDITOR_PROMPTS_DIR."""
    env = os.environ.get("AUDITOR_PROMPTS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "prompts"


def load_prompt(name: str = DEFAULT_PROMPT, directory: Path | None = None) -> Prompt:
    """Read and parse a prompt file; raises ConfigError when it is missing or malformed."""
    path = (directory or prompts_dir()) / name
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"找不到提示词文件 {path}（可用 AUDITOR_PROMPTS_DIR 指定目录）") from exc
    m = re.match(r"\s*version:\s*(\S+)\s*\n(.*?)^=== system ===\s*\n(.*?)^=== user ===\s*\n(.*)\Z", raw, re.S | re.M)
    if not m:
        raise ConfigError(f"提示词文件 {path} 格式不对：需要 version 行和 === system === / === user === 两节")
    return Prompt(
        m.group(1), m.group(3).strip(), m.group(4).strip(), hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
    )


# ----------------------------------------------------------------------------- chunking


def chunk_text(text: str, max_chars: int) -> list[tuple[int, str]]:
    """Cut text into pieces of at most max_chars on paragraph, then line (table row), then sentence ends.

    Returns (offset, piece) pairs whose pieces concatenate back to the text exactly.
    """
    if len(text) <= max_chars:
        return [(0, text)] if text else []
    segments = _segments(text, 0, len(text), max_chars)
    out: list[tuple[int, str]] = []
    start = end = segments[0][0]
    for a, b in segments:
        if b - start > max_chars and end > start:
            out.append((start, text[start:end]))
            start = a
        end = b
    out.append((start, text[start:end]))
    return out


def _segments(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans covering text[a:b], each at most max_chars, cut at the coarsest boundary that works."""
    if b - a <= max_chars:
        return [(a, b)]
    for pattern in (r"\n\s*\n", r"\n", r"[。；;！？!?]"):
        cuts = [m.end() for m in re.finditer(pattern, text[a:b])]
        cuts = [a + c for c in cuts if 0 < c < b - a]
        if cuts:
            out: list[tuple[int, int]] = []
            prev = a
            for c in [*cuts, b]:
                out.extend(_segments(text, prev, c, max_chars) if c - prev > max_chars else [(prev, c)])
                prev = c
            return out
    return [(i, min(i + max_chars, b)) for i in range(a, b, max_chars)]


def halve(text: str) -> list[tuple[int, str]]:
    """Split a piece in two at the coarsest boundary near its middle, for output that was truncated."""
    n = len(text)
    for pattern in (r"\n\s*\n", r"\n", r"[。；;！？!?]"):
        cuts = [m.end() for m in re.finditer(pattern, text) if n * 0.2 <= m.end() <= n * 0.8]
        if cuts:
            c = min(cuts, key=lambda c: abs(c - n / 2))
            return [(0, text[:c]), (c, text[c:])]
    return [(0, text[: n // 2]), (n // 2, text[n // 2 :])]


# ----------------------------------------------------------------------------- locating quotes in a chunk


class QuoteFinder:
    """Finds every occurrence of a quote in a chunk after folding full-width forms and dropping spaces
    and thousands separators (the same normalisation grounding uses), mapped to document offsets."""

    def __init__(self, text: str, base: int) -> None:
        folded = fold(text)
        chars: list[str] = []
        offs: list[int] = []
        for i, c in enumerate(folded):
            if c.isspace() or (
                c == ","
                and 0 < i
                and folded[i - 1].isdigit()
                and folded[i + 1 : i + 4].isdigit()
                and len(folded[i + 1 : i + 4]) == 3
            ):
                continue
            chars.append(c)
            offs.append(base + i)
        self.squeezed = "".join(chars)
        self.offs = offs
        # Numbers are looked up with spaces kept: squeezing would glue neighbouring cells ("≥640\t640").
        self.spaced = re.sub(r"\s+", " ", re.sub(r"(?<=\d),(?=\d{3})", "", folded))

    @staticmethod
    def squeeze(s: str) -> str:
        s = re.sub(r"(?<=\d),(?=\d{3})", "", fold(s))
        return re.sub(r"\s+", "", s)

    def all(self, quote: str) -> list[tuple[int, int]]:
        q = self.squeeze(quote)
        out: list[tuple[int, int]] = []
        if not q:
            return out
        k = self.squeezed.find(q)
        while k >= 0:
            out.append((self.offs[k], self.offs[k + len(q) - 1] + 1))
            k = self.squeezed.find(q, k + 1)
        return out

    def number_span(self, start: int, end: int, num: str) -> tuple[int, int]:
        """Document offsets of the number inside the span [start, end), or the span itself."""
        i, j = bisect.bisect_left(self.offs, start), bisect.bisect_left(self.offs, end)
        c = canonical(num)
        k = self.squeezed.find(c, i, j) if c else -1
        return (self.offs[k], self.offs[k + len(c) - 1] + 1) if k >= 0 else (start, end)

    def has_number(self, num: str) -> bool:
        c = canonical(num)
        return bool(c) and re.search(rf"(?<![\d.]){re.escape(c)}(?!\d|\.\d)", self.spaced) is not None


def _evidence_slots(obj: Any) -> list[tuple[Any, str, Evidence]]:
    """(owner, attribute, Evidence) for every Evidence inside a Facts item, so it can be replaced."""
    out: list[tuple[Any, str, Evidence]] = []
    if isinstance(obj, list):
        for x in obj:
            out.extend(_evidence_slots(x))
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            v = getattr(obj, name)
            if isinstance(v, Evidence):
                out.append((obj, name, v))
            elif isinstance(v, (BaseModel, list)):
                out.extend(_evidence_slots(v))
    return out


def _place(item: Any, finder: QuoteFinder, anchor: float | None) -> float | None:
    """Give every quote of one item its offsets in the chunk and return the item's anchor.

    A quote found once is placed there, and the first such place is the anchor. A quote found several times
    (a bare "95%" in a table row) takes the occurrence nearest the number of the value placed before
    it in the item but not on its digits, preferring one after it since fields are listed in reading
    order (target, then actual); with nothing placed yet, the occurrence nearest the anchor.
    """
    slots = _evidence_slots(item)
    found = [(slot, finder.all(slot[2].quote)) for slot in slots]
    unique = [spans[0][0] for _, spans in found if len(spans) == 1]
    if unique:
        anchor = min(unique)  # an item starts where its first certain quote stands (a root before its rows)
    prev: tuple[int, int] | None = None
    for (owner, name, ev), spans in found:
        if not spans:
            continue  # left to grounding, which searches the whole Unit or drops the value
        if len(spans) == 1:
            s, e = spans[0]
        elif prev is not None:
            # Another value of the item does not sit on the previous value's digits; then nearest wins.
            a, b = prev
            s, e = min(spans, key=lambda sp: (sp[0] < b and a < sp[1], abs(sp[0] - b), sp[0] < b))
        else:
            ref = anchor if anchor is not None else spans[0][0]
            s, e = min(spans, key=lambda sp: (abs(sp[0] - ref), sp[0]))
        setattr(owner, name, Evidence(quote=ev.quote, start=s, end=e))
        if isinstance(owner, Quantity):
            prev = finder.number_span(s, e, owner.text)
    return anchor


# ----------------------------------------------------------------------------- conversion to Facts


class _Converter:
    """Turns one chunk's ExtractedFacts into Facts; counts values that cannot even be parsed."""

    def __init__(self, finder: QuoteFinder) -> None:
        self.finder = finder
        self.dropped = 0

    def text(self, s: str | None) -> str:
        """Free text shown in messages: a number in it that the chunk does not contain is removed."""
        s = s or ""
        for m in reversed(list(NUMBER_RE.finditer(fold(s)))):
            if not self.finder.has_number(m.group(0)):
                s = s[: m.start()] + s[m.end() :]
        return s

    def q(self, lq: LQ | None) -> Quantity | None:
        if lq is None:
            return None
        number = (lq.number or "").strip()
        parsed = parse(number)
        if parsed is None:
            self.dropped += 1
            return None
        unit = fold(lq.unit or "").strip()
        if re.search(r"\d", unit):
            unit = ""
        value, decimals = parsed
        return Quantity(
            value=value,
            unit=unit,
            text=number,
            decimals=decimals,
            evidence=Evidence(quote=(lq.quote or "").strip()),
            label=self.text(lq.label),
        )

    def qs(self, items: list[LQ]) -> list[Quantity] | None:
        out = [self.q(x) for x in items]
        return None if any(x is None for x in out) else [x for x in out if x is not None]

    def facts(self, ef: ExtractedFacts) -> Facts:
        f = Facts()
        for lf in ef.fund_flows:
            flow = FundFlow(
                name=self.text(lf.name), source=lf.source, **{k: self.q(getattr(lf, k)) for k in _FLOW_FIELDS}
            )
            if any(getattr(flow, k) is not None for k in _FLOW_FIELDS):
                f.fund_flows.append(flow)
        for ls in ef.sums:
            total, parts = self.q(ls.total), self.qs(ls.parts)
            if total is not None and parts:
                f.sums.append(SumClaim(label=self.text(ls.label), total=total, parts=parts, exhaustive=ls.exhaustive))
        for lr in ef.ratios:
            rate, num, den = self.q(lr.rate), self.qs(lr.numerator), self.qs(lr.denominator)
            if rate is not None and num and den:
                f.ratios.append(
                    RatioClaim(
                        label=self.text(lr.label), rate=rate, numerator=num, denominator=den, complement=lr.complement
                    )
                )
        for lc in ef.changes:
            before, after, change = self.q(lc.before), self.q(lc.after), self.q(lc.change)
            if before is not None and after is not None and change is not None:
                f.changes.append(
                    ChangeClaim(
                        label=self.text(lc.label),
                        before=before,
                        after=after,
                        change=change,
                        direction=1 if lc.direction == "增加" else -1,
                        relative=lc.relative,
                    )
                )
        f.scores = self.tree(ef.scores)
        for li in ef.indicators:
            quote = (li.quote or "").strip() or li.name
            f.indicators.append(
                Indicator(
                    name=self.text(li.name),
                    levels=[self.text(x) for x in li.levels],
                    op=li.op,
                    target=self.q(li.target),
                    target_high=self.q(li.target_high),
                    target_text=self.text(li.target_text),
                    actual=self.q(li.actual),
                    actual_text=self.text(li.actual_text),
                    score=self.q(li.score),
                    max_score=self.q(li.max_score),
                    reason=self.text(li.reason),
                    has_reason_column=li.has_reason_column,
                    evidence=Evidence(quote=quote),
                )
            )
        for lr in ef.ratings:
            score = self.q(lr.score)
            if score is None:
                continue
            grade = (lr.grade or "").strip() or None
            if grade is not None and grade not in _GRADES:
                grade = None  # only a grade word the checks know can be compared with the bands
            gq = (lr.grade_quote or "").strip()
            f.ratings.append(
                Rating(
                    score=score,
                    grade=grade,
                    grade_evidence=Evidence(quote=gq) if grade and gq else None,
                    bands=[b for b in (self.band(x) for x in lr.bands) if b is not None],
                )
            )
        for lc in ef.claims:
            if (lc.quote or "").strip():
                f.claims.append(Claim(kind=lc.kind, evidence=Evidence(quote=lc.quote.strip())))
        for st in ef.statements:
            if (st.quote or "").strip():
                f.statements.append(
                    Statement(subject=self.text(st.subject), kind=st.kind, evidence=Evidence(quote=st.quote.strip()))
                )
        for fm in ef.fund_mentions:
            amount = self.q(fm.amount)
            if amount is not None:
                f.fund_mentions.append(FundMention(fund=self.text(fm.fund), amount=amount))
        f.fund = self.text(ef.fund)
        f.dropped = self.dropped
        return f

    def band(self, lb: LBand) -> GradeBand | None:
        """A declared grade band; its bounds are no Quantities, so they are checked here against the quote."""
        lo, hi = parse(lb.low or ""), parse(lb.high or "")
        grade = (lb.grade or "").strip()
        quote = lb.quote or ""
        ok = lo is not None and hi is not None and grade in _GRADES and bool(self.finder.all(quote))
        if ok:
            for bound in (lb.low, lb.high):
                if parse(bound) != (Decimal(0), 0) and not QuoteFinder(quote, 0).has_number(bound):
                    ok = False
        if not ok:
            self.dropped += 1
            return None
        assert lo is not None and hi is not None
        return GradeBand(
            grade=grade, low=lo[0], high=hi[0], low_inclusive=lb.low_inclusive, high_inclusive=lb.high_inclusive
        )

    def tree(self, items: list[LScore]) -> list[ScoreNode]:
        """Build the score tree from the flat id/parent list; a node whose parent is unknown becomes a root."""
        nodes: dict[int, ScoreNode] = {}
        order: list[tuple[LScore, ScoreNode]] = []
        for ls in items:
            node = ScoreNode(
                name=self.text(ls.name),
                level=ls.level,
                max_score=self.q(ls.max_score),
                score=self.q(ls.score),
                deduction=self.q(ls.deduction),
                not_applicable=ls.not_applicable,
                source=ls.source,
            )
            if ls.id not in nodes:
                nodes[ls.id] = node
            order.append((ls, node))
        roots: list[ScoreNode] = []
        parent_of = {ls.id: ls.parent for ls, _ in order}
        for ls, node in order:
            p = ls.parent
            # Walk up to make sure the chain ends; a cycle would otherwise hide nodes from the checks.
            seen, cur = {ls.id}, p
            while cur is not None and cur not in seen and cur in parent_of:
                seen.add(cur)
                cur = parent_of[cur]
            if p is None or p not in nodes or nodes[p] is node or cur is not None:
                roots.append(node)
            else:
                nodes[p].children.append(node)
        return roots


_FLOW_FIELDS = [k for k in FundFlow.model_fields if k not in {"name", "source", "inferred"}]


def place_all(facts: Facts, finder: QuoteFinder) -> None:
    """Set offsets for every quote in Facts, item by item in reading order."""
    anchor: float | None = None
    for name in ITEM_LISTS:
        for item in getattr(facts, name):
            anchor = _place(item, finder, anchor)


# ----------------------------------------------------------------------------- faults


def _redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return re.sub(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}", r"\1***", text)


def _cause(exc: BaseException) -> BaseException:
    """The transport error under Instructor's wrapper, or the exception itself."""
    if isinstance(exc, InstructorRetryException) and isinstance(exc.__cause__, openai.OpenAIError):
        return exc.__cause__
    return exc


def _transient(exc: BaseException) -> bool:
    """429, 408/409, 5xx, timeouts and dropped connections are worth another try; nothing else is."""
    c = _cause(exc)
    if isinstance(c, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(c, openai.APIStatusError):
        return c.status_code in _RETRY_STATUS or c.status_code >= 500
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After or retry-after-ms), if it said so."""
    c = _cause(exc)
    resp = getattr(c, "response", None)
    headers = getattr(resp, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Wait:
    """Exponential backoff with jitter, replaced by the server's Retry-After when it gives one."""

    def __init__(self, base: float, cap: float, retry_after_max: float) -> None:
        self.jitter = wait_random_exponential(multiplier=base, max=cap)
        self.retry_after_max = retry_after_max

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ra = retry_after(exc) if exc else None
        if ra is not None:
            return min(ra, self.retry_after_max)
        return float(self.jitter(state))


def _describe(exc: BaseException, secret: str | None) -> tuple[str, int | None]:
    """A one-line reason and HTTP status for a failure, with no key and no response dump."""
    c = _cause(exc)
    status = getattr(c, "status_code", None)
    if isinstance(c, openai.APITimeoutError):
        why = "请求超时"
    elif isinstance(c, openai.APIConnectionError):
        why = "连接失败或被中断"
    elif isinstance(c, openai.AuthenticationError):
        why = "HTTP 401 鉴权失败（检查 OPENAI_API_KEY）"
    elif isinstance(c, openai.APIStatusError):
        msg = ""
        body = c.body
        if isinstance(body, dict):
            err = body.get("error", body)
            msg = str(err.get("message", "")) if isinstance(err, dict) else str(err)
        why = f"HTTP {c.status_code}" + (f"：{' '.join(msg.split())[:120]}" if msg else "")
    elif isinstance(c, InstructorRetryException):
        n = getattr(c, "n_attempts", None)
        fails = getattr(c, "failed_attempts", None) or []
        first = str(fails[-1].exception).strip().splitlines()[0] if fails else str(c).splitlines()[0]
        why = f"模型输出不符合结构（{n}次请求）：{first[:120]}"
    else:
        why = f"{type(c).__name__}: {' '.join(str(c).split())[:120]}"
    return _redact(why, secret), status if isinstance(status, int) else None


class _Truncated(Exception):
    """The reply hit the output limit (finish_reason length)."""


# ----------------------------------------------------------------------------- the extractor


@dataclass
class _Tally:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    chunks: int = 0
    cached_chunks: int = 0
    facts: list[Facts] = field(default_factory=list)


def _setting(config: ExtractConfig, name: str, override: Any, default: Any) -> Any:
    if override is not None:
        return override
    value = getattr(config, name, None)
    return default if value is None else value


class LLMExtractor:
    """Extracts Facts with an LLM through Instructor; thread-safe, so Units can run concurrently."""

    name = "llm"

    def __init__(
        self,
        config: ExtractConfig,
        *,
        chunk_chars: int | None = None,
        reask: int | None = None,
        backoff: float | None = None,
        backoff_max: float | None = None,
        retry_after_max: float | None = None,
        max_tokens: int | None = None,
        prompt: Prompt | None = None,
        cache: LLMCache | None = None,
    ) -> None:
        if not config.model:
            raise ConfigError("使用 llm 抽取需要指定模型：--model 或环境变量 AUDITOR_MODEL")
        if config.mode not in _MODES:
            raise ConfigError(f"未知的 --mode {config.mode}，可选 tools、json、md_json")
        self.model = config.model
        self.mode = config.mode
        self.base_url = (config.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip(
            "/"
        )
        self._secret = config.api_key
        self.max_attempts = max(1, int(config.max_attempts))
        self.chunk_chars = int(_setting(config, "chunk_chars", chunk_chars, DEFAULT_CHUNK_CHARS))
        self.reask = int(_setting(config, "reask", reask, DEFAULT_REASK))
        self.backoff = float(_setting(config, "backoff", backoff, DEFAULT_BACKOFF))
        self.backoff_max = float(_setting(config, "backoff_max", backoff_max, DEFAULT_BACKOFF_MAX))
        self.retry_after_max = float(_setting(config, "retry_after_max", retry_after_max, DEFAULT_RETRY_AFTER_MAX))
        self.max_tokens = _setting(config, "max_tokens", max_tokens, DEFAULT_MAX_TOKENS)
        self.prompt = prompt or load_prompt()
        if cache is not None:
            self.cache: LLMCache | None = cache
        elif config.no_cache:
            self.cache = None
        else:
            self.cache = LLMCache(LLMCache.default_path(config.cache_dir))
        # Tenacity owns retries, so the client's own are off; a local server needs no key but the
        # client insists on one, hence the placeholder.
        self._client = openai.OpenAI(
            api_key=config.api_key or "no-key", base_url=self.base_url, max_retries=0, timeout=config.timeout
        )
        self._instructor = instructor.from_openai(self._client, mode=_MODES[self.mode])

    def __repr__(self) -> str:  # never show the key
        return f"LLMExtractor(model={self.model!r}, base_url={self.base_url!r}, mode={self.mode!r})"

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ public
    def extract(self, unit: Unit) -> ExtractResult:
        """Facts of one Unit from all its chunks, merged; raises LLMError when the retry budget is spent."""
        tally = _Tally()
        pieces = [(o, p) for o, p in chunk_text(unit.text, self.chunk_chars) if p.strip()]
        for i, (offset, piece) in enumerate(pieces, 1):
            part = "全文" if len(pieces) == 1 else f"第{i}部分（共{len(pieces)}部分）"
            self._chunk(unit, offset, piece, part, tally, may_split=True)
        facts = merge_chunks(tally.facts)
        return ExtractResult(
            facts=facts,
            extractor=self.name,
            llm_calls=tally.calls,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            cached=tally.chunks > 0 and tally.cached_chunks == tally.chunks,
        )

    # ------------------------------------------------------------------ one chunk
    def _messages(self, unit: Unit, piece: str, part: str) -> list[dict[str, str]]:
        user = self.prompt.render(
            title=unit.title, fund=unit.fund or "（未注明）", year=unit.year or "（未注明）", part=part, text=piece
        )
        return [{"role": "system", "content": self.prompt.system}, {"role": "user", "content": user}]

    def _key(self, messages: list[dict[str, str]]) -> str:
        text_hash = hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode("utf-8")).hexdigest()
        return cache_key(
            text_hash=text_hash,
            model=self.model,
            base_url=self.base_url,
            mode=self.mode,
            prompt_version=self.prompt.version,
            schema_version=f"{SCHEMA_VERSION}.{LLM_SCHEMA_VERSION}.{_SCHEMA_SHA}",
        )

    def _chunk(self, unit: Unit, offset: int, piece: str, part: str, tally: _Tally, may_split: bool) -> None:
        messages = self._messages(unit, piece, part)
        key = self._key(messages)
        tally.chunks += 1
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            tally.cached_chunks += 1
        if hit is not None and hit.get("split"):
            self._split(unit, offset, piece, part, tally)
            return
        if hit is not None:
            reply = ExtractedFacts.model_validate(hit["reply"])
        else:
            try:
                reply = self._ask(messages, tally)
            except _Truncated:
                if not may_split or len(piece) < 2:
                    raise LLMError("模型输出被截断（finish_reason=length），缩小分块后仍被截断") from None
                if self.cache is not None:
                    self.cache.put(key, {"split": True}, model=self.model, prompt_version=self.prompt.version)
                self._split(unit, offset, piece, part, tally)
                return
            if self.cache is not None:
                self.cache.put(
                    key, {"reply": reply.model_dump(mode="json")}, model=self.model, prompt_version=self.prompt.version
                )
        finder = QuoteFinder(piece, unit.start + offset)
        conv = _Converter(finder)
        facts = conv.facts(reply)
        place_all(facts, finder)
        tally.facts.append(facts)

    def _split(self, unit: Unit, offset: int, piece: str, part: str, tally: _Tally) -> None:
        # Truncated output shrinks the chunk once: the halves may not split again.
        halves = [(o, p) for o, p in halve(piece) if p.strip()]
        for i, (sub_off, sub) in enumerate(halves, 1):
            label = f"{part}之{i}/{len(halves)}" if part != "全文" else f"第{i}部分（共{len(halves)}部分）"
            self._chunk(unit, offset + sub_off, sub, label, tally, may_split=False)

    def _ask(self, messages: list[dict[str, str]], tally: _Tally) -> ExtractedFacts:
        """One structured request under the retry budget; usage and request count go to the tally."""
        hooks = Hooks()

        # The hooks run in this thread and the tally belongs to this Unit, so no lock is needed.
        def on_request(*_a: Any, **_k: Any) -> None:
            tally.calls += 1

        def on_response(response: Any) -> None:
            usage = getattr(response, "usage", None)
            if usage is not None:
                tally.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
                tally.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)

        hooks.on("completion:kwargs", on_request)
        hooks.on("completion:response", on_response)
        extra: dict[str, Any] = {"temperature": 0}
        if self.max_tokens:
            extra["max_tokens"] = int(self.max_tokens)
        retrying = Retrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=_Wait(self.backoff, self.backoff_max, self.retry_after_max),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    reply, _completion = self._instructor.chat.completions.create_with_completion(
                        model=self.model,
                        messages=messages,
                        response_model=ExtractedFacts,
                        max_retries=self.reask,
                        hooks=hooks,
                        **extra,
                    )
                    return reply
        except IncompleteOutputException:
            raise _Truncated() from None
        except Exception as exc:  # every other failure becomes one clean line
            if isinstance(exc, InstructorRetryException) and isinstance(exc.__cause__, IncompleteOutputException):
                raise _Truncated() from None
            reason, status = _describe(exc, self._secret)
            tries = tally.calls
            raise LLMError(f"LLM 抽取失败（{self.model}，共{tries}次请求）：{reason}", status=status) from None
        raise LLMError("LLM 抽取失败：没有得到回答")  # pragma: no cover - Retrying always returns or raises


# ----------------------------------------------------------------------------- merging chunks


def _same_flow(a: FundFlow, b: FundFlow) -> bool:
    """Same fund by name with no field stated differently: parts of one flow read from two chunks."""
    if re.sub(r"\s+", "", a.name) != re.sub(r"\s+", "", b.name):
        return False
    for k in _FLOW_FIELDS:
        qa, qb = getattr(a, k), getattr(b, k)
        if qa is not None and qb is not None and qa.value != qb.value:
            return False
    return True


def merge_chunks(parts: list[Facts]) -> Facts:
    """Facts of a Unit from its chunks: lists concatenated in text order, exact repeats dropped, and a
    fund read partly in one chunk and partly in the next joined into one flow."""
    out = Facts()
    seen: set[str] = set()
    for f in parts:
        earlier = list(out.fund_flows)
        out.dropped += f.dropped
        out.fund = out.fund or f.fund
        for name in ITEM_LISTS:
            if name == "fund_flows":
                continue
            for item in getattr(f, name):
                sig = name + item.model_dump_json()
                if sig not in seen:
                    seen.add(sig)
                    getattr(out, name).append(item)
        for flow in f.fund_flows:
            target = next((g for g in earlier if _same_flow(g, flow)), None)
            if target is None:
                out.fund_flows.append(flow)
                continue
            for k in _FLOW_FIELDS:
                if getattr(target, k) is None and getattr(flow, k) is not None:
                    setattr(target, k, getattr(flow, k))
    return out
