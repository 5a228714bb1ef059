"""Every registered reader has a table test: a module here whose READERS names it."""

from __future__ import annotations

import importlib
import pkgutil

import tests.readers as pkg
from auditor.extract.rules import READERS


def test_every_reader_has_a_table_test() -> None:
    tested: set[str] = set()
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("test_") and info.name != "test_meta":
            tested.update(getattr(importlib.import_module(f"tests.readers.{info.name}"), "READERS", ()))
    assert tested == set(READERS), f"untested: {set(READERS) - tested}; unknown: {tested - set(READERS)}"
