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
    # The model's relations the rules did not read: checked on their own, so they can add rows but never change
    # what the rules' Facts give (a check that weighs several items, a score tree, a fund's money).
    added: Facts | None = None
    notes: list[str] = field(default_factory=list)  # for the detail column (disagreements spelled out)
    warnings: list[str] = field(default_factory=list)  # each becomes a warning row (a model that failed)


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
        """The extractor actually used: the rules alone, or with a model configured the rules and the model
        (hybrid; `llm` is another name for it, since the rules always run)."""
        if self.extractor == "rules" or (self.extractor == "auto" and not self.model):
            return "rules"
        return "hybrid"


class Extractor(Protocol):
    name: str

    def extract(self, unit: Unit) -> ExtractResult: ...
