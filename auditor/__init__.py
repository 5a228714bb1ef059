"""auditor: flags the places where a performance self-evaluation report contradicts itself."""

from auditor.errors import AuditorError

__all__ = ["AuditorError", "audit_path"]


def audit_path(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Audit a file or directory; see auditor.audit.audit_path."""
    from auditor.audit import audit_path as _audit_path

    return _audit_path(*args, **kwargs)
