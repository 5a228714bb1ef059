"""Loading a file into a Document: its full text and the page of every character."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from auditor.errors import LoadError

SUFFIXES = {".txt", ".md", ".pdf", ".docx"}


@dataclass(frozen=True)
class Document:
    """A loaded file. `page_starts[i]` is the text offset where page i+1 begins (None: no pages)."""

    path: Path
    text: str
    page_starts: tuple[int, ...] | None = None
    kind: str = "txt"
    notes: tuple[str, ...] = field(default=())

    def page_of(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)


def load(path: Path) -> Document:
    """Load a .txt/.md/.pdf/.docx file; raises LoadError with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix in {".txt", ".md"}:
        return _load_text(path)
    raise LoadError(f"不支持的文件类型 {suffix}", path=str(path))


def _load_text(path: Path) -> Document:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return Document(path=path, text=data.decode(enc), kind=path.suffix.lower().lstrip("."))
        except UnicodeDecodeError:
            continue
    raise LoadError("无法识别文本编码", path=str(path))
