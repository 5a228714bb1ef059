"""Dump what auditor.documents.load makes of every PDF under fixtures/ into one JSON file (a parity check).

Per file: the text, page starts, notes and every table grid (cells with text, offsets and merged flag), or the
LoadError reason. Two snapshots taken before and after a loader change must be byte-identical.
Usage: python scripts/pdf_snapshot.py OUT.json [ROOT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from auditor.documents import load
from auditor.errors import LoadError

ROOT = Path(__file__).resolve().parents[1]


def snapshot(root: Path) -> dict[str, object]:
    """Every PDF under `root` (recursively, sorted) mapped to what the loader returns for it."""
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*.pdf")):
        key = str(path.relative_to(root))
        try:
            doc = load(path)
        except LoadError as exc:
            out[key] = {"error": exc.reason}
            continue
        out[key] = {
            "text": doc.text,
            "page_starts": list(doc.page_starts or ()),
            "notes": list(doc.notes),
            "tables": [
                {
                    "start": g.start,
                    "end": g.end,
                    "source": g.source,
                    "uncertain": g.uncertain,
                    "notes": list(g.notes),
                    "rows": [[[c.text, c.start, c.end, c.merged] for c in row] for row in g.rows],
                }
                for g in doc.tables
            ],
        }
    return out


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python scripts/pdf_snapshot.py OUT.json [ROOT]")
    root = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "fixtures"
    data = snapshot(root)
    Path(sys.argv[1]).write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    print(f"{len(data)} PDFs -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
