"""Extractors turn a Unit into Facts; rules (offline) and llm (Instructor) share this interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from auditor.facts import Facts
from auditor.units import Unit

ExtractorName = Literal["auto", "rules", "llm", "hybrid"]


@dataclass
class ExtractResult:
    """Facts of one Unit plus what it cost to get them."""

    facts: Facts
    extractor: str
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    disagreements: int = 0


@dataclass
class ExtractConfig:
    """How to extract; the LLM fields matter only for llm and hybrid."""

    extractor: ExtractorName = "auto"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    mode: Literal["tools", "json", "md_json"] = "tools"
    concurrency: int = 1
    cache_dir: str | None = None
    no_cache: bool = False
    timeout: float = 60.0
    max_attempts: int = 4
    chunk_chars: int = 6000
    reask: int = 1
    backoff: float = 1.0
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    max_tokens: int | None = None

    def resolved(self) -> str:
        """The extractor actually used: auto means llm when a model is configured."""
        if self.extractor == "auto":
            return "llm" if self.model else "rules"
        return self.extractor


class Extractor(Protocol):
    name: str

    def extract(self, unit: Unit) -> ExtractResult: ...
