"""Record the replies a careful model returns for the seed reports, as fixtures/llm/seeds/*.json.

A reply holds the relations the rules read whose every number stands right after its label in the text
(the only values the contract lets a model give: a quote of the label and the number, nothing more), in the
requests the LLM extractor sends (Units packed up to the chunk size). Table cells, whose labels stand
elsewhere, are left to the rules, as a model following the prompt would. Rerun after the rules extractor,
the prompt or the packing changes:  python -m tests.llm.record_seeds
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from auditor.documents import load
from auditor.extract.llm import (
    BEGIN,
    DEFAULT_CHUNK_CHARS,
    END,
    QuoteFinder,
    Section,
    load_prompt,
    pack,
    render_sections,
)
from auditor.extract.relations import Builder, Relation
from auditor.extract.rules import RulesExtractor
from auditor.extract.rules.flows import flow_field
from auditor.extract.rules.scan import UNIT
from auditor.facts import Facts, FundFlow, Quantity, ScoreNode
from auditor.grounding import ground
from auditor.units import Unit, split

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
OUT = ROOT / "fixtures" / "llm" / "seeds"
_DELIM = "，,。；;：:、！？\n\t（(）)"
_LABEL_CHARS = 14
_UNIT_AFTER = re.compile(rf"\s*(?:{UNIT})")
_FLOW_FIELDS = [k for k in FundFlow.model_fields if k not in {"name", "source", "inferred"}]


def request_text(body: dict[str, Any]) -> str | None:
    """The report text of a chat request: its last user message after the prompt's fixed opening."""
    opening = load_prompt().user.split("{sections}", 1)[0]
    for msg in reversed(body.get("messages", [])):
        content = msg.get("content")
        if msg.get("role") == "user" and isinstance(content, str) and BEGIN in content:
            return content.removeprefix(opening)
    return None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short_value(q: Quantity | None, unit: Unit) -> dict[str, str] | None:
    """A rules Quantity as a model gives it: the label right before the number and the number, quoted verbatim;
    None when no label stands there (a table cell)."""
    if q is None or q.evidence.start is None or q.evidence.end is None:
        return None
    text = unit.doc.text
    finder = QuoteFinder(text[q.evidence.start : q.evidence.end], q.evidence.start)
    a, b = finder.number_span(q.evidence.start, q.evidence.end, q.text)
    if (a, b) == (q.evidence.start, q.evidence.end) and text[a:b] != q.text:
        return None
    m = _UNIT_AFTER.match(text, b)
    end = m.end() if m else b
    start = a
    while start > max(unit.start, a - _LABEL_CHARS) and text[start - 1] not in _DELIM:
        start -= 1
    label = text[start:a].strip()
    label = re.sub(r"(?:为|是|达到|共计|共|约|计)+$", "", label).strip()
    if len(label) < 2 or re.search(r"\d", label):
        return None
    quote = text[start:end]
    return {"label": label, "number": text[a:b], "unit": q.unit, "quote": quote}


def relations(unit: Unit, lo: int, hi: int) -> list[dict[str, Any]]:
    """The relations the rules read in the Unit whose numbers all stand between lo and hi (document offsets)."""
    facts = ground(RulesExtractor().extract(unit).facts, unit)
    out: list[dict[str, Any]] = []

    def inside(*qs: Quantity | None) -> bool:
        return all(q is not None and q.evidence.start is not None and lo <= q.evidence.start < hi for q in qs)

    def add(kind: str, stated: Quantity | None, operands: list[Any], **extra: Any) -> None:
        if stated is None or not inside(stated, *operands, *extra.get("_den", [])):
            return
        values = [short_value(q, unit) for q in [stated, *operands, *extra.get("_den", [])]]
        if any(v is None for v in values):
            return
        rel: dict[str, Any] = {"kind": kind, "stated": values[0], "operands": values[1 : 1 + len(operands)]}
        if "_den" in extra:
            rel["denominator"] = values[1 + len(operands) :]
        if extra.get("partial"):
            rel["partial"] = True
        if kind == "flow":
            # A careful model gives the amounts whose words name their place in the fund's money.
            named = [v for v in values if flow_field(v["label"], v["unit"], in_list=False)]
            if len(named) < 2:
                return
            rel["stated"], rel["operands"] = named[0], named[1:]
        # What the contract would refuse (a score relation mixing weights and scores, say), a careful model
        # following the prompt does not give.
        if Builder().relation(Relation.model_validate(rel), Facts()):
            out.append(rel)

    for s in facts.sums:
        add("sum", s.total, list(s.parts), partial=not s.exhaustive)
    for r in facts.ratios:
        if not r.complement and not r.excess:
            add("ratio", r.rate, list(r.numerator), _den=list(r.denominator))
    for c in facts.changes:
        if c.before is not None and c.amount is None:
            add("change", c.change, [c.before, c.after])
    for f in facts.fund_flows:
        if f.inferred:
            continue
        # A flow's amounts are separate statements: a model gives the ones it can quote with their labels.
        present = [getattr(f, k) for k in _FLOW_FIELDS if short_value(getattr(f, k), unit) is not None]
        if len(present) >= 2:
            add("flow", present[-1], present[:-1])

    def walk(node: ScoreNode) -> None:
        for role in ("score", "max_score"):
            kids = [getattr(c, role) for c in node.children]
            if kids and all(k is not None for k in kids):
                add("score", getattr(node, role), kids)
        for c in node.children:
            walk(c)

    for root in facts.scores:
        walk(root)
    return out


def record_file(path: Path, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> list[dict[str, Any]]:
    """One entry per request the extractor sends for the file: the hash of its report text and the reply."""
    units = split(load(path))
    entries = []
    for sections in pack(units, chunk_chars):
        rels: list[dict[str, Any]] = []
        for s in sections:
            u = units[s.unit]
            rels.extend(relations(u, u.start + s.offset, u.start + s.offset + len(s.text)))
        entries.append(
            {
                "sections": [_describe(s, units) for s in sections],
                "sha256": sha(render_sections(sections)),
                "reply": {"relations": rels},
            }
        )
    return entries


def _describe(s: Section, units: list[Unit]) -> dict[str, Any]:
    return {"unit": units[s.unit].title, "chars": [s.offset, s.offset + len(s.text)]}


def record(seeds: Path = SEEDS, out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    written = []
    for path in sorted(seeds.glob("*.txt")):
        target = out / f"{path.stem}.json"
        target.write_text(json.dumps(record_file(path), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(target)
    return written


def replies(folder: Path = OUT) -> dict[str, dict[str, Any]]:
    """sha256 of a request's report text → recorded reply, over every file in the folder."""
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(folder.glob("*.json")):
        for e in json.loads(f.read_text(encoding="utf-8")):
            out[e["sha256"]] = e["reply"]
    return out


__all__ = ["END", "record", "replies", "request_text", "sha"]

if __name__ == "__main__":
    for p in record():
        sys.stdout.write(f"{p.relative_to(ROOT)}\n")
