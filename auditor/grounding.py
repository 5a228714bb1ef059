"""Grounding: every number must stand verbatim in its quote, and the quote in the Unit's text.

This is the defence against invented numbers (an LLM's or a rule's): a value that cannot be
traced to the document is dropped and counted, and never becomes the basis of a flag.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from auditor.facts import Evidence, Facts, Quantity, SumClaim
from auditor.normalize import normalized
from auditor.numbers import canonical, fold, parse, squeeze
from auditor.units import Unit


class _Locator:
    """Finds a quote in the Unit's text after squeezing both, and maps it back to offsets."""

    def __init__(self, unit: Unit) -> None:
        text = unit.text
        folded = fold(text)
        chars, offs = [], []
        i = 0
        while i < len(folded):
            c = folded[i]
            if c.isspace() or (
                c == "," and 0 < i < len(folded) - 3 and folded[i - 1].isdigit() and folded[i + 1 : i + 4].isdigit()
            ):
                i += 1
                continue
            chars.append(c)
            offs.append(unit.start + i)
            i += 1
        self.squeezed = "".join(chars)
        self.offs = offs
        self.unit = unit

    def find(self, quote: str) -> tuple[int, int] | None:
        q = squeeze(quote)
        if not q:
            return None
        k = self.squeezed.find(q)
        if k < 0:
            return None
        return self.offs[k], self.offs[k + len(q) - 1] + 1


def _number_in(text: str, quote: str) -> bool:
    """True when the number stands in the quote as a whole number, not inside a longer one."""
    num = re.escape(canonical(text))
    spaced = re.sub(r"(?<=\d),(?=\d{3})", "", fold(quote))
    spaced = re.sub(r"\s+", " ", spaced)
    pattern = rf"(?<![\d.]){num}(?!\d|\.\d)"
    # Whitespace separates cells, so try it kept first; squeezed text joins numbers split by stray spaces;
    # the normalised quote is what the readers read (一百万元 is 100万元 there).
    return any(re.search(pattern, s) is not None for s in (spaced, squeeze(quote), normalized(quote)))


_RAW_NUM = re.compile(r"[-−]?[0-9０-９][0-9０-９,，．.\s]*")


def as_written(text: str, quote: str) -> str:
    """The number exactly as the quote writes it ('３ 084.40', '90. 48'), else `text` unchanged."""
    want = canonical(text)
    for m in _RAW_NUM.finditer(quote):
        tokens = m.group(0).split()
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                raw = " ".join(tokens[i:j]).rstrip(",，．.")
                if canonical(raw) == want:
                    # Keep the original spacing between the tokens.
                    start = quote.find(tokens[i], m.start())
                    end = quote.find(tokens[j - 1], start) + len(tokens[j - 1])
                    return quote[start:end].rstrip(",，．.")
    return text


def ground_quantity(q: Quantity, unit: Unit, loc: _Locator) -> Quantity | None:
    """The Quantity with verified evidence (quote, offsets, page), or None when it cannot be grounded."""
    parsed = parse(q.text)
    if parsed is None or parsed[0] != q.value:
        return None
    doc = unit.doc
    ev = q.evidence
    span: tuple[int, int] | None = None
    if ev.start is not None and ev.end is not None and unit.start <= ev.start < ev.end <= unit.end:
        if not ev.quote or squeeze(doc.text[ev.start : ev.end]) == squeeze(ev.quote):
            span = (ev.start, ev.end)
    if span is None and ev.quote:
        span = loc.find(ev.quote)
    if span is None:
        return None
    quote = doc.text[span[0] : span[1]]
    if not _number_in(q.text, quote):
        return None
    return q.model_copy(
        update={
            "text": as_written(q.text, quote),
            "evidence": Evidence(quote=quote, start=span[0], end=span[1], page=doc.page_of(span[0])),
        }
    )


def _walk(obj: Any, unit: Unit, loc: _Locator, counter: list[int]) -> Any:
    """Ground every Quantity inside a model; return None for a model that lost a required number."""
    if isinstance(obj, Quantity):
        g = ground_quantity(obj, unit, loc)
        if g is None:
            counter[0] += 1
        return g
    if isinstance(obj, Evidence):
        span = None
        if obj.start is not None and obj.end is not None:
            span = (obj.start, obj.end)
        elif obj.quote:
            span = loc.find(obj.quote)
        if span is None:
            return None
        return Evidence(
            quote=unit.doc.text[span[0] : span[1]], start=span[0], end=span[1], page=unit.doc.page_of(span[0])
        )
    if isinstance(obj, list):
        out = []
        for item in obj:
            g = _walk(item, unit, loc, counter)
            if g is not None:
                out.append(g)
        return out
    if isinstance(obj, BaseModel):
        updates: dict[str, Any] = {}
        for name, field in type(obj).model_fields.items():
            value = getattr(obj, name)
            if isinstance(value, (BaseModel, list)):
                g = _walk(value, unit, loc, counter)
                if g is None and field.is_required():
                    return None
                if isinstance(value, list) and isinstance(obj, SumClaim) and len(g) != len(value):
                    return None  # a sum that lost a part would look wrong when it is not
                updates[name] = g
        return obj.model_copy(update=updates)
    return obj


def ground(facts: Facts, unit: Unit) -> Facts:
    """Drop every value that is not in the Unit's text; `dropped` counts them."""
    loc = _Locator(unit)
    counter = [0]
    grounded = _walk(facts, unit, loc, counter)
    return grounded.model_copy(update={"dropped": facts.dropped + counter[0]})
