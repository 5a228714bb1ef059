"""auditor: flags the places where a performance self-evaluation report contradicts itself."""

from importlib.metadata import PackageNotFoundError, version

from auditor.errors import AuditorError

try:
    __version__ = version("auditor")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["AuditorError", "__version__", "audit_path"]


def audit_path(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Audit a file or directory; see auditor.audit.audit_path."""
    from auditor.audit import audit_path as _audit_path

    return _audit_path(*args, **kwargs)
