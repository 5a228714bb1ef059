"""Layouts: seed content rewritten into the layouts real reports use, each err file with one injected error.

fixtures/layouts/<layout>/ holds clean.txt|md (no flag), err1…errN (clean plus ONE injected error) and
expected.csv (file,check,severity,stated,computed,why) whose rows were computed by hand
(scripts/make_layouts.py writes them). The flags of each file — (check, severity, stated) of every
error/warning, info ignored — must equal its expected rows. A failure is a finding about the extractor;
the expected rows are hand arithmetic and are not to be edited to match the tool.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from auditor.audit import audit_path

from .conftest import FIXTURES

LAYOUTS = FIXTURES / "layouts"
NAMES = (
    "md_pipes",
    "flattened_cells",
    "thousands_fullwidth",
    "mixed_units",
    "latex_bits",
    "stray_spaces",
    "columns_reordered",
    "first_level_once",
    "prose_tree",
    "docx_style_lines",
)
FILES = sorted(p for p in LAYOUTS.glob("*/*") if p.suffix in {".txt", ".md"})

Key = tuple[str, str, str]


def expected(folder: Path) -> dict[str, set[Key]]:
    out: dict[str, set[Key]] = {}
    with (folder / "expected.csv").open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["file"], set()).add((r["check"], r["severity"], r["stated"]))
    return out


def _id(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def test_every_layout_has_a_clean_file_and_five_errors() -> None:
    assert sorted(p.name for p in LAYOUTS.iterdir() if p.is_dir()) == sorted(NAMES)
    for name in NAMES:
        folder = LAYOUTS / name
        files = sorted(p.name for p in folder.iterdir() if p.suffix in {".txt", ".md"})
        ext = ".md" if name == "md_pipes" else ".txt"
        errs = [f for f in files if f.startswith("err")]
        assert f"clean{ext}" in files, name
        assert len(errs) >= 5 and all(f.endswith(ext) for f in errs), (name, files)
        exp = expected(folder)
        assert f"clean{ext}" not in exp, f"{name}: the clean file must have no expected row"
        assert set(exp) == set(errs), f"{name}: every err file needs expected rows, and only they"


@pytest.mark.parametrize("path", [p for p in FILES if p.stem.startswith("err")], ids=_id)
def test_err_file_is_clean_with_one_local_edit(path: Path) -> None:
    """Each err file equals clean except one short edit on one line (the injected error)."""
    clean = (path.parent / f"clean{path.suffix}").read_text(encoding="utf-8")
    err = path.read_text(encoding="utf-8")
    assert clean != err
    i = 0
    while clean[i] == err[i]:
        i += 1
    j = 0
    while clean[len(clean) - 1 - j] == err[len(err) - 1 - j] and j < min(len(clean), len(err)) - i:
        j += 1
    old, new = clean[i : len(clean) - j], err[i : len(err) - j]
    assert len(old) <= 12 and len(new) <= 12 and "\n" not in old + new, (old, new)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_layout_file_is_one_unit(path: Path) -> None:
    result = audit_path(path)
    assert len(result.units) == 1, [u.unit for u in result.units]
    assert result.units[0].status != "failed", result.units[0].detail


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_layout_flags_equal_expected(path: Path) -> None:
    want = expected(path.parent).get(path.name, set())
    flags = [f for f in audit_path(path).flags if f.severity.value in {"error", "warning"}]
    got = {(f.check, f.severity.value, f.stated) for f in flags}
    detail = (
        "\n".join(
            f"  {f.check} {f.severity.value} stated={f.stated!r} computed={f.computed!r} {f.message}" for f in flags
        )
        or "  (no flag)"
    )
    assert got == want, (
        f"\n{_id(path)}\n missing: {sorted(want - got)}\n extra:   {sorted(got - want)}\n actual flags:\n{detail}"
    )
