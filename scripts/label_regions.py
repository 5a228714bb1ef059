"""Add a `where` field (table or prose) to the copy of the realdev labels, for coverage per region.

A relation is a table relation when one of its quotes comes from a table: a line of cells (| or tab), numbers
standing in cells on consecutive lines, or a run of numbers separated by spaces. The self-evaluation tables
flattened into one line (a003, a005, a021, b032, b033) were read by hand and are table relations throughout.

    python scripts/label_regions.py ../shared/realdev/labels.jsonl fixtures/realdev/labels.jsonl
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

FLATTENED_TABLES = {"a003.txt", "a005.txt", "a021.txt", "b032.txt", "b033.txt"}


def from_table(quote: str) -> bool:
    return bool(
        "|" in quote
        or "\t" in quote
        or re.search(r"\d\s*\n\s*\n?\s*-?\d", quote)
        or re.search(r"(?:\d+(?:\.\d+)?%?\s+){3,}", quote)
    )


def where(relation: dict) -> str:
    quotes = relation["quote"] if isinstance(relation["quote"], list) else [relation["quote"]]
    if relation["file"] in FLATTENED_TABLES or any(from_table(q) for q in quotes):
        return "table"
    return "prose"


def main(src: str, dst: str) -> None:
    lines = []
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rel = json.loads(line)
            rel["where"] = where(rel)
            lines.append(json.dumps(rel, ensure_ascii=False))
    Path(dst).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
