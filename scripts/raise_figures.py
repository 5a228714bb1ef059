"""Write the current realdev figures into fixtures/realdev/figures.json (run after an improvement, then commit).

python scripts/raise_figures.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from auditor.cli import eval_app

ROOT = Path(__file__).resolve().parents[1]
REALDEV = ROOT / "fixtures" / "realdev"


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        res = CliRunner().invoke(eval_app, [str(REALDEV / "labels.jsonl"), str(REALDEV / "cases"), "-o", out, "--json"])
    got = json.loads(res.stdout)
    path = REALDEV / "figures.json"
    figures = json.loads(path.read_text(encoding="utf-8"))
    for key in ("recall", "found", "false_alarms", "covered", "holding", "coverage"):
        figures[key] = got[key]
    figures["by_region"] = {k: {"covered": v["covered"], "holding": v["holding"]} for k, v in got["by_region"].items()}
    figures["by_kind"] = {k: {"covered": v["covered"], "holding": v["holding"]} for k, v in got["by_kind"].items()}
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print({k: figures[k] for k in ("recall", "found", "false_alarms", "covered", "holding")}, figures["by_region"])


if __name__ == "__main__":
    main()
