"""Property tests of the rounding-aware interval arithmetic behind every check."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from auditor.intervals import Interval, total

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=4, allow_nan=False)
decimals = st.integers(min_value=0, max_value=3)


def written(x: Decimal, d: int) -> Interval:
    """What a report shows for the true value x rounded to d places."""
    return Interval.written(x.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP), d)


@given(amounts, decimals)
def test_written_number_contains_its_true_value(x: Decimal, d: int) -> None:
    assert x in written(x, d)


@given(st.lists(st.tuples(amounts, decimals), min_size=1, max_size=6), decimals)
def test_honest_rounding_of_a_sum_is_never_flagged(parts: list[tuple[Decimal, int]], d: int) -> None:
    true_total = sum((x for x, _ in parts), Decimal(0))
    computed = total([written(x, dx) for x, dx in parts])
    assert written(true_total, d).intersects(computed)


@given(amounts, amounts, decimals, decimals, st.integers(min_value=0, max_value=2))
def test_honest_rounding_of_a_rate_is_never_flagged(a: Decimal, b: Decimal, da: int, db: int, dr: int) -> None:
    assume(written(b, db).lo > 0)  # a divisor that rounds to zero has no rate to check
    true_rate = a / b * 100
    computed = (written(a, da) / written(b, db)).scale(100)
    assert written(true_rate, dr).intersects(computed)


@given(amounts, amounts)
def test_difference_contains_true_difference(a: Decimal, b: Decimal) -> None:
    assert a - b in Interval.exact(a) - Interval.exact(b)
    assert a - b in written(a, 2) - written(b, 2)


@given(amounts, decimals)
def test_a_slip_larger_than_the_rounding_is_caught(x: Decimal, d: int) -> None:
    shown = x.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    slip = Decimal(2) * Decimal(1).scaleb(-d)
    assert not Interval.written(shown + slip, d).intersects(Interval.exact(x))


def test_division_by_an_interval_that_may_be_zero_raises() -> None:
    import pytest

    with pytest.raises(ZeroDivisionError):
        Interval.exact(1) / Interval.written(0, 0)


def test_known_rate_from_seed_000() -> None:
    # 465.41 / (77.40 + 437) = 90.4763...%, written 90.48% in the report.
    rate = (Interval.written("465.41", 2) / (Interval.written("77.40", 2) + Interval.written(437, 0))).scale(100)
    assert Interval.written("90.48", 2).intersects(rate)
    assert not Interval.written("90.58", 2).intersects(rate)
