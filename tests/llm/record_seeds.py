"""Record the replies a correct extraction returns for the seed reports, as fixtures/llm/seeds/*.json.

The replies start from the rules extractor's grounded Facts (numbers as written, each with the verbatim
quote it stands in), cut into the chunks the LLM extractor sends, in the schema the model fills. Rerun
after the rules extractor or the chunking changes:  python -m tests.llm.record_seeds
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from auditor.documents import load
from auditor.extract.llm import DEFAULT_CHUNK_CHARS, ITEM_LISTS, chunk_text
from auditor.extract.rules import RulesExtractor
from auditor.facts import Evidence, Facts, Quantity, Rating, ScoreNode
from auditor.grounding import ground
from auditor.numbers import fold
from auditor.units import Unit, split

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
OUT = ROOT / "fixtures" / "llm" / "seeds"
BEGIN, END = "<<<报告原文>>>\n", "\n<<<原文结束>>>"


def chunk_of(body: dict[str, Any]) -> str | None:
    """The report text inside a chat request's last user message (between the prompt's markers)."""
    for msg in reversed(body.get("messages", [])):
        content = msg.get("content")
        if msg.get("role") == "user" and isinstance(content, str) and BEGIN in content:
            return content.split(BEGIN, 1)[1].rsplit(END, 1)[0]
    return None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lq(q: Quantity | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {"number": q.text, "unit": q.unit, "quote": q.evidence.quote, "label": q.label}


def _starts(obj: Any) -> list[int]:
    """Offsets of every evidence in an item, to decide which chunk the item is read from."""
    out: list[int] = []
    if isinstance(obj, Evidence):
        if obj.start is not None:
            out.append(obj.start)
    elif isinstance(obj, list):
        for x in obj:
            out.extend(_starts(x))
    elif hasattr(type(obj), "model_fields"):
        for name in type(obj).model_fields:
            out.extend(_starts(getattr(obj, name)))
    return out


def _band_quote(unit: Unit, low: Any, high: Any, grade: str) -> str:
    text = fold(unit.text)
    if low == 0:
        pattern = rf"{high}\s*分以下为\s*[“\"]?{grade}"
    else:
        pattern = rf"{low}\s*(?:分)?\s*[（(]含[)）]\s*[-—–~至]\s*{high}\s*分\s*(?:\(含\)|（含）)?\s*为\s*[“\"]?{grade}"
    m = re.search(pattern, text)
    return unit.text[m.start() : m.end()] if m else ""


def _rating(r: Rating, unit: Unit) -> dict[str, Any]:
    return {
        "score": _lq(r.score),
        "grade": r.grade,
        "grade_quote": r.grade_evidence.quote if r.grade_evidence else "",
        "bands": [
            {
                "grade": b.grade,
                "low": str(b.low),
                "high": str(b.high),
                "low_inclusive": b.low_inclusive,
                "high_inclusive": b.high_inclusive,
                "quote": _band_quote(unit, b.low, b.high, b.grade),
            }
            for b in r.bands
        ],
    }


def _scores(roots: list[ScoreNode]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def walk(node: ScoreNode, parent: int | None) -> None:
        nid = len(out) + 1
        out.append(
            {
                "id": nid,
                "parent": parent,
                "name": node.name,
                "level": node.level,
                "max_score": _lq(node.max_score),
                "score": _lq(node.score),
                "deduction": _lq(node.deduction),
                "not_applicable": node.not_applicable,
                "source": node.source,
            }
        )
        for c in node.children:
            walk(c, nid)

    for r in roots:
        walk(r, None)
    return out


def to_reply(facts: Facts, unit: Unit) -> dict[str, Any]:
    """Grounded Facts in the schema the model fills (ExtractedFacts)."""
    flows = [
        {
            "name": f.name,
            "source": f.source,
            **{k: _lq(getattr(f, k)) for k in type(f).model_fields if k not in {"name", "source"}},
        }
        for f in facts.fund_flows
    ]
    return {
        "fund_flows": flows,
        "sums": [
            {"label": s.label, "total": _lq(s.total), "parts": [_lq(p) for p in s.parts], "exhaustive": s.exhaustive}
            for s in facts.sums
        ],
        "ratios": [
            {
                "label": r.label,
                "rate": _lq(r.rate),
                "numerator": [_lq(x) for x in r.numerator],
                "denominator": [_lq(x) for x in r.denominator],
                "complement": r.complement,
            }
            for r in facts.ratios
        ],
        "changes": [
            {
                "label": c.label,
                "before": _lq(c.before),
                "after": _lq(c.after),
                "change": _lq(c.change),
                "direction": "增加" if c.direction == 1 else "减少",
                "relative": c.relative,
            }
            for c in facts.changes
        ],
        "scores": _scores(facts.scores),
        "indicators": [
            {
                "name": i.name,
                "levels": i.levels,
                "op": i.op,
                "target": _lq(i.target),
                "target_high": _lq(i.target_high),
                "target_text": i.target_text,
                "actual": _lq(i.actual),
                "actual_text": i.actual_text,
                "score": _lq(i.score),
                "max_score": _lq(i.max_score),
                "reason": i.reason,
                "has_reason_column": i.has_reason_column,
                "quote": i.evidence.quote,
            }
            for i in facts.indicators
        ],
        "ratings": [_rating(r, unit) for r in facts.ratings],
        "claims": [{"kind": c.kind, "quote": c.evidence.quote} for c in facts.claims],
        "statements": [{"subject": s.subject, "kind": s.kind, "quote": s.evidence.quote} for s in facts.statements],
        "fund_mentions": [{"fund": m.fund, "amount": _lq(m.amount)} for m in facts.fund_mentions],
        "fund": facts.fund,
    }


def record_unit(unit: Unit, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> list[dict[str, Any]]:
    """One entry per chunk: the chunk's hash and the reply holding the items read from that chunk."""
    facts = ground(RulesExtractor().extract(unit).facts, unit)
    pieces = [(o, p) for o, p in chunk_text(unit.text, chunk_chars) if p.strip()]
    per_chunk = [Facts(fund=facts.fund) for _ in pieces]
    for name in ITEM_LISTS:
        for item in getattr(facts, name):
            starts = _starts(item)
            first = min(starts) - unit.start if starts else 0
            k = max(i for i, (o, _p) in enumerate(pieces) if o <= first) if pieces else 0
            getattr(per_chunk[k], name).append(item)
    return [
        {
            "unit": unit.title,
            "chunk": i + 1,
            "of": len(pieces),
            "chars": [o, o + len(p)],
            "sha256": sha(p),
            "reply": to_reply(per_chunk[i], unit),
        }
        for i, (o, p) in enumerate(pieces)
    ]


def record(seeds: Path = SEEDS, out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(seeds.glob("*.txt")):
        entries = [e for u in split(load(path)) for e in record_unit(u)]
        target = out / f"{path.stem}.json"
        target.write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(target)
    return written


def replies(folder: Path = OUT) -> dict[str, dict[str, Any]]:
    """sha256 of a chunk → recorded reply, over every file in the folder."""
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(folder.glob("*.json")):
        for e in json.loads(f.read_text(encoding="utf-8")):
            out[e["sha256"]] = e["reply"]
    return out


if __name__ == "__main__":
    for p in record():
        sys.stdout.write(f"{p.relative_to(ROOT)}\n")
