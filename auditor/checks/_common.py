"""Shared helpers of the checks: number display and flag building from evidence."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from auditor.facts import Evidence, Quantity, in_common_unit, scale_of
from auditor.flags import Flag, Quote, Result, Severity
from auditor.intervals import Interval


def fmt(value: Decimal, decimals: int) -> str:
    """A Decimal shown with `decimals` places, rounding half up as reports do."""
    q = Decimal(1).scaleb(-decimals)
    out = value.quantize(q, rounding=ROUND_HALF_UP)
    return str(out.copy_abs() if out.is_zero() else out)  # no "-0.00"


def computed_text(iv: Interval, decimals: int) -> str:
    return fmt(iv.mid, decimals)


def diff_text(stated: Quantity, iv: Interval, decimals: int) -> str:
    return fmt(stated.value - iv.mid, decimals)


def consistent(stated: Quantity, computed: Interval) -> bool:
    """The tolerance rule: the stated number's rounding range meets the computed range."""
    return stated.interval.intersects(computed)


def make_flag(
    check: str,
    severity: Severity,
    message: str,
    stated: Quantity | str,
    computed: str,
    difference: str,
    evidence: list[Evidence | None],
    *,
    formula: str = "",
    ok: bool = False,
) -> Flag:
    """A check row located at the first evidence, all quotes in its evidence cell; `ok` makes it a tick, not a flag."""
    evs = [e for e in evidence if e is not None and e.quote]
    seen: list[str] = []
    for e in evs:
        q = " ".join(e.quote.split())
        if q not in seen:
            seen.append(q)
    first = evs[0] if evs else None
    quotes: list[Quote] = []
    for e in evs:
        q = Quote(e.quote, e.start, e.end, e.page)
        if q not in quotes:
            quotes.append(q)
    return Flag(
        check=check,
        severity=severity,
        message=message,
        stated=written(stated) if isinstance(stated, Quantity) else stated,
        computed=computed,
        difference=difference,
        evidence=" … ".join(seen),
        start=first.start if first else None,
        end=first.end if first else None,
        page=first.page if first else None,
        result=Result.OK if ok else Result.FLAG,
        formula=formula,
        quotes=quotes,
    )


def written(q: Quantity) -> str:
    """The stated number as the report writes it, with its % sign (full-width where it was)."""
    if q.unit != "%":
        return q.text
    return q.text + ("％" if q.text + "％" in q.evidence.quote else "%")


def pct(num: Interval, den: Interval) -> Interval | None:
    """num ÷ den × 100, or None when the denominator may be zero."""
    try:
        return (num / den).scale(100)
    except ZeroDivisionError:
        return None


def common(qs: list[Quantity]) -> list[Interval] | None:
    """The quantities' intervals in one unit (万元, 人 ...), or None when their units cannot be compared."""
    return in_common_unit(qs)


def decimals_in(q: Quantity, unit: str) -> int:
    """How many decimals `q` needs when shown in `unit` (1.5万元 in 亿元 needs 5)."""
    qf = scale_of(q.unit)[1]
    uf = scale_of(unit)[1]
    return max(0, q.decimals - int((qf / uf).adjusted()))


def iv(q: Quantity, unit: str) -> Interval:
    """q's interval expressed in `unit` (a 元 amount in 万元); unchanged when the units are not scales."""
    qb, qf = scale_of(q.unit)
    ub, uf = scale_of(unit)
    if qb != ub or qf == uf:
        return q.interval
    return q.interval.scale(qf / uf)


def first_time(seen: set[tuple], *quantities: Quantity | None) -> bool:
    """True the first time a relation between these quantities (by where they are written) is met: two
    readers may see one relation, a share in a list and in its sentence."""
    key = tuple((q.evidence.start, q.evidence.end, q.text) if q is not None else None for q in quantities)
    if key in seen:
        return False
    seen.add(key)
    return True
