"""Helpers for the LLM tests: a Unit from text, an extractor pointed at a fake server, fast retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.documents import Document
from auditor.extract import ExtractConfig
from auditor.extract import llm as llm_module
from auditor.extract.llm import LLMExtractor
from auditor.units import Unit

FAKE_KEY = "sk-fake-1234567890abcdefSECRET"


def unit_of(text: str, name: str = "report.txt", title: str = "测试报告") -> Unit:
    doc = Document(path=Path(name), text=text)
    return Unit(doc, 0, title, "测试资金", "2024", 0, len(text))


def v(label: str, number: str, unit: str, quote: str) -> dict[str, str]:
    """A value as the contract has a model give it: its label, its number, and a quote holding both."""
    return {"label": label, "number": number, "unit": unit, "quote": quote}


def llm_config(base_url: str, tmp_path: Path, **kw: Any) -> ExtractConfig:
    values: dict[str, Any] = {
        "extractor": "llm",
        "model": "m",
        "base_url": base_url,
        "api_key": FAKE_KEY,
        "cache_dir": str(tmp_path / "cache"),
        "timeout": 5.0,
        "max_attempts": 4,
    }
    values.update(kw)
    return ExtractConfig(**values)


def extractor(base_url: str, tmp_path: Path, **kw: Any) -> LLMExtractor:
    """An LLMExtractor with millisecond backoff so fault tests stay fast."""
    opts = {k: kw.pop(k) for k in ("chunk_chars", "reask", "prompt", "cache") if k in kw}
    return LLMExtractor(llm_config(base_url, tmp_path, **kw), backoff=0.01, backoff_max=0.05, **opts)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extractors built by the pipeline's factory back off for milliseconds, not seconds."""
    monkeypatch.setattr(llm_module, "DEFAULT_BACKOFF", 0.01)
    monkeypatch.setattr(llm_module, "DEFAULT_BACKOFF_MAX", 0.05)
