"""Layer contracts: imports flow cli → audit → extract/grounding/checks/report → units → facts."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ROOT


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("import-linter is part of the dev extra; install with pip install -e '.[dev]'")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_library_never_prints() -> None:
    for path in (ROOT / "auditor").rglob("*.py"):
        if path.name == "cli.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "print(" not in source, f"{path.name} prints; only cli.py talks to the terminal"
        assert "import typer" not in source and "from rich" not in source, path.name
