"""Imported by the worker processes' forkserver when a model is configured: the model path, loaded and warmed once
for every worker rather than once per worker."""

from auditor.extract.llm import warm_up
from auditor.extract.merge import HybridExtractor

__all__ = ["HybridExtractor"]

warm_up()
