"""No report among the fixtures makes the extractor or a check crash (a crash shows as a failed Unit)."""

from __future__ import annotations

import pytest

from auditor.audit import audit_path

from .conftest import FIXTURES

FOLDERS = ["seeds", "checks", "layouts", "holdout", "holdout2", "holdout3", "converted"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_unit_is_audited(folder: str) -> None:
    result = audit_path(FIXTURES / folder)
    crashed = [(u.file, u.detail) for u in result.units if u.status == "failed"]
    assert crashed == []
