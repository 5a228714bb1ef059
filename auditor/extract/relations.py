"""The contract with a model: a small, flat schema of generic relations (a stated value and the operands the
report says make it), and the code that builds domain Facts from it with the rules' own role vocabulary.

The model is trusted with nothing it could get wrong silently. Every string and list it returns is cut to a
bound; a value must quote its label and its number together, so its role comes from the report's words, not
from the slot the model put it in; a value whose quote does not hold its number, or whose label is not in
its quote, is dropped and counted, and so is a relation left without the values it needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from auditor.extract.rules.flows import flow_field
from auditor.extract.rules.scan import UNIT
from auditor.facts import ChangeClaim, Evidence, Facts, FundFlow, Quantity, RatioClaim, ScoreNode, SumClaim
from auditor.numbers import canonical, fold, parse, squeeze

# Bounds on what a reply may hold: a quote is a label and a number, a label a few words; a section of a
# report states at most a few hundred relations. A reply past them is cut, never stored or shown whole.
MAX_TEXT = 200
MAX_NUMBER = 40
MAX_OPERANDS = 40
MAX_RELATIONS = 400


def _cut(limit: int) -> Callable[[Any], Any]:
    def cut(value: Any) -> Any:
        # Models write 437 for "437" and null for "": taken as text, so one such value does not cost the reply.
        if value is None:
            value = ""
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, (str, list)):
            return value[:limit]
        return value

    return cut


Text = Annotated[str, BeforeValidator(_cut(MAX_TEXT))]
Number = Annotated[str, BeforeValidator(_cut(MAX_NUMBER))]
UnitName = Annotated[str, BeforeValidator(_cut(12))]
# A number as reports write it: digits, thousands separators, one decimal point, a sign (not 9e999 or NaN).
_NUMERAL = re.compile(r"[-+−]?[\d０-９]+(?:[,，][\d０-９]{3})*(?:[.．][\d０-９]+)?")


def _no_titles(schema: dict[str, Any]) -> None:
    # The schema is resent with every request: pydantic's generated titles repeat the field names for nothing
    # (the model's own title stays: Instructor names the tool by it).
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


# The meaning of each field is in the system prompt, once; the schema itself stays bare.
_BARE = ConfigDict(json_schema_extra=_no_titles)


class Value(BaseModel):
    """一个数"""

    model_config = _BARE
    label: Text
    number: Number
    unit: UnitName = ""
    quote: Text


class Relation(BaseModel):
    """一处数量关系"""

    model_config = _BARE
    kind: Literal["sum", "ratio", "change", "flow", "score"]
    stated: Value
    operands: Annotated[list[Value], BeforeValidator(_cut(MAX_OPERANDS))] = Field(default_factory=list)
    denominator: Annotated[list[Value], BeforeValidator(_cut(MAX_OPERANDS))] = Field(default_factory=list)
    partial: bool = False


class Reply(BaseModel):
    """本段原文中的数量关系"""

    model_config = _BARE
    relations: Annotated[list[Relation], BeforeValidator(_cut(MAX_RELATIONS))] = Field(default_factory=list)


# --------------------------------------------------------------------------- building Facts

_UNIT_AFTER = re.compile(rf"\s*({UNIT})")
_DOWN = re.compile(r"减少|下降|降低|压减|节约|缩减|减")
_UP = re.compile(r"增加|增长|提高|上升|超额|超出|增")
# A value named by a change word is the change, not a value before or after it.
_CHANGE_WORD = re.compile(f"{_DOWN.pattern}|{_UP.pattern}|变化|变动")
_MAX_SCORE = re.compile(r"分值|满分|权重|标准分")


class Builder:
    """Turns a Reply into Facts; `dropped` counts the values and relations that could not be trusted."""

    def __init__(self) -> None:
        self.dropped = 0

    def value(self, v: Value) -> Quantity | None:
        """A Quantity from a value whose quote holds both its label and its number, else None (counted)."""
        number = v.number.strip()
        parsed = parse(number) if _NUMERAL.fullmatch(number) else None
        quote = v.quote.strip()
        label = v.label.strip()
        squeezed = squeeze(quote)
        digits = canonical(number)
        at = _number_in(squeezed, digits)
        if parsed is None or at < 0 or not label or squeeze(label) not in squeezed:
            self.dropped += 1
            return None
        after = _UNIT_AFTER.match(squeezed, at + len(digits))
        unit = fold(v.unit or "").strip().replace("％", "%")
        if after:
            unit = fold(after.group(1)).replace("％", "%")  # the unit the report writes beats the model's
        elif not unit or unit not in fold(squeezed) or re.search(r"\d", unit):
            unit = ""  # a unit the quote does not write is the model's guess
        value, decimals = parsed
        return Quantity(
            value=value, unit=unit, text=number, decimals=decimals, evidence=Evidence(quote=quote), label=label
        )

    def values(self, vs: list[Value]) -> list[Quantity] | None:
        out = [self.value(v) for v in vs]
        return None if any(q is None for q in out) else [q for q in out if q is not None]

    def facts(self, reply: Reply) -> Facts:
        f = Facts()
        for r in reply.relations:
            if not self.relation(r, f):
                self.dropped += 1
        f.dropped = self.dropped
        return f

    def relation(self, r: Relation, f: Facts) -> bool:
        """Add one relation to `f`; False when it cannot be trusted as a whole."""
        stated = self.value(r.stated)
        if stated is None:
            return False
        if r.kind == "flow":
            flow = self.flow([r.stated, *r.operands])
            if flow is None:
                return False
            f.fund_flows.append(flow)
            return True
        operands = self.values(r.operands)
        if not operands:
            return False
        if r.kind in ("sum", "score"):
            _share_unit(stated, operands)
        if r.kind == "sum":
            if len(operands) < 2:
                return False
            f.sums.append(SumClaim(label=stated.label, total=stated, parts=operands, exhaustive=not r.partial))
        elif r.kind == "ratio":
            denominator = self.values(r.denominator)
            if stated.unit != "%" or not denominator:
                return False
            f.ratios.append(RatioClaim(label=stated.label, rate=stated, numerator=operands, denominator=denominator))
        elif r.kind == "change":
            words = stated.label + stated.evidence.quote
            direction = -1 if _DOWN.search(words) else 1 if _UP.search(words) else 0
            if len(operands) != 2 or direction == 0 or any(_CHANGE_WORD.search(q.label) for q in operands):
                return False  # an increase given as last year's value would make a false flag
            f.changes.append(
                ChangeClaim(
                    label=operands[1].label,
                    before=operands[0],
                    after=operands[1],
                    change=stated,
                    direction=direction,
                    relative=stated.unit == "%",
                )
            )
        else:  # score
            role = _score_role(stated.label)
            if any(_score_role(q.label) != role for q in operands):
                return False  # a weight added to scores: the report's words say they are not one sum
            children = [ScoreNode(name=q.label, level=2, **{role: q}) for q in operands]
            f.scores.append(ScoreNode(name=stated.label, level=1, children=children, **{role: stated}))
        return True

    def flow(self, vs: list[Value]) -> FundFlow | None:
        """A fund's money from labelled amounts, each placed by what its label says (the rules' vocabulary)."""
        fields: dict[str, Quantity] = {}
        for v in vs:
            q = self.value(v)
            if q is None:
                return None
            role = flow_field(q.label, q.unit, in_list=False)
            if not role:
                self.dropped += 1
                return None  # an amount the report's words do not name: its place in the flow is a guess
            if role in fields and fields[role].value != q.value:
                return None
            fields[role] = q
        if len(fields) < 2:
            return None
        return FundFlow(name="", **fields)


def _number_in(squeezed_quote: str, digits: str) -> int:
    """Where the number stands in the quote as a whole number (not inside a longer one), or -1."""
    if not digits:
        return -1
    for m in re.finditer(re.escape(digits), squeezed_quote):
        before = squeezed_quote[m.start() - 1 : m.start()]
        if before in "-−" and before and not digits.startswith("-"):
            continue  # "20" inside "-20%": the sign the report writes is part of the number
        after = squeezed_quote[m.end() : m.end() + 2]
        if not (before.isdigit() or before == ".") and not (
            after[:1].isdigit() or (after[:1] == "." and after[1:2].isdigit())
        ):
            return m.start()
    return -1


def _share_unit(stated: Quantity, operands: list[Quantity]) -> None:
    """A total and its parts are one quantity: a part written without its unit (197825套 + 182) takes the unit
    the others state, when they state only one."""
    units = {q.unit for q in (stated, *operands) if q.unit}
    if len(units) == 1:
        unit = units.pop()
        for q in (stated, *operands):
            if not q.unit:
                q.unit = unit


def _score_role(label: str) -> str:
    return "max_score" if _MAX_SCORE.search(label) else "score"
