"""The one exception root of the package; every error the library raises derives from it."""

from __future__ import annotations


class AuditorError(Exception):
    """Root of all errors raised by auditor; `reason` is the one-line text shown to users."""

    def __init__(self, reason: str, *, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class LoadError(AuditorError):
    """A file could not be read as a report (corrupt, encrypted, empty, wrong type)."""


class ExtractionError(AuditorError):
    """An extractor could not turn a Unit into Facts (e.g. the LLM budget ran out)."""


class ConfigError(AuditorError):
    """The options given do not make a usable configuration."""


class LLMError(ExtractionError):
    """The LLM endpoint failed after all retries; `status` holds the last HTTP status if any."""

    def __init__(self, reason: str, *, status: int | None = None, path: str | None = None) -> None:
        super().__init__(reason, path=path)
        self.status = status


class OutputError(AuditorError):
    """The results could not be written (folder not writable, a file in the way, disk full, folder in use)."""


class BaselineError(ConfigError):
    """A reviewed workbook given as the baseline cannot be read (missing, not an xlsx, without the needed headers)."""
