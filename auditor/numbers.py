"""Reading numbers as written: full-width digits, thousands separators, stray spaces, precision."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９．，％－＋：（）",
    "0123456789.,%-+:()",
)

# A number as it appears in a report: optional sign, digits with optional thousands
# separators, optional decimals.  Digits glued to letters (编码 "H12", years in "2024年")
# are filtered by the callers, which know the unit that follows.
NUMBER_RE = re.compile(r"(?<![\d.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])|(?<![\d.])[-−]?\d+(?:\.\d+)?(?![\d])")


def fold(text: str) -> str:
    """Map full-width digits and punctuation to ASCII, keeping the length of the text."""
    return text.translate(_FULLWIDTH)


def parse(text: str) -> tuple[Decimal, int] | None:
    """Parse '202,992', '１２.５', '-4.31' into (value, decimals written); None if not a number."""
    s = fold(text).strip().replace(",", "").replace(" ", "").replace("−", "-")
    if not s:
        return None
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    decimals = len(s.split(".", 1)[1]) if "." in s else 0
    return value, decimals


def canonical(text: str) -> str:
    """The digits of a number with separators and spaces removed, for matching inside quotes."""
    return fold(text).replace(",", "").replace(" ", "").replace("−", "-").lstrip("+")


def squeeze(text: str) -> str:
    """Normalise a quote for grounding: fold full-width forms, drop thousands separators and all space."""
    folded = fold(text)
    folded = re.sub(r"(?<=\d),(?=\d{3})", "", folded)
    return re.sub(r"\s+", "", folded)
