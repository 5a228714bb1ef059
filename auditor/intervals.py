"""Rounding-aware interval arithmetic: a number written with d decimals stands for ±0.5·10^-d."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

_HALF = Decimal("0.5")


@dataclass(frozen=True)
class Interval:
    """A closed interval [lo, hi] of Decimals."""

    lo: Decimal
    hi: Decimal

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"empty interval [{self.lo}, {self.hi}]")

    @classmethod
    def written(cls, value: Decimal | int | str, decimals: int) -> Interval:
        """The values a number written with `decimals` decimals may stand for."""
        v = Decimal(value)
        half = _HALF * Decimal(10) ** -decimals
        return cls(v - half, v + half)

    @classmethod
    def exact(cls, value: Decimal | int | str) -> Interval:
        v = Decimal(value)
        return cls(v, v)

    @property
    def mid(self) -> Decimal:
        return (self.lo + self.hi) / 2

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def __mul__(self, other: Interval) -> Interval:
        products = [self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi]
        return Interval(min(products), max(products))

    def scale(self, factor: Decimal | int) -> Interval:
        f = Decimal(factor)
        a, b = self.lo * f, self.hi * f
        return Interval(min(a, b), max(a, b))

    def __truediv__(self, other: Interval) -> Interval:
        """Quotient; raises ZeroDivisionError when the divisor interval contains zero."""
        if other.lo <= 0 <= other.hi:
            raise ZeroDivisionError("divisor interval contains zero")
        with localcontext() as ctx:
            ctx.prec = 40
            quotients = [self.lo / other.lo, self.lo / other.hi, self.hi / other.lo, self.hi / other.hi]
        return Interval(min(quotients), max(quotients))

    def intersects(self, other: Interval) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi

    def __contains__(self, value: Decimal) -> bool:
        return self.lo <= value <= self.hi

    def distance(self, other: Interval) -> Decimal:
        """Gap between two intervals (0 when they meet)."""
        if self.intersects(other):
            return Decimal(0)
        return other.lo - self.hi if other.lo > self.hi else self.lo - other.hi


def total(intervals: list[Interval]) -> Interval:
    """Sum of intervals; the empty sum is exactly zero."""
    out = Interval.exact(0)
    for iv in intervals:
        out = out + iv
    return out
