"""EXEC_RATE: the stated budget execution rate against spent ÷ budget on every base the report allows."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, diff_text, iv, make_flag, pct
from auditor.facts import Facts, FundFlow, Quantity
from auditor.flags import Flag, Severity
from auditor.intervals import Interval, total


def _bases(f: FundFlow) -> list[tuple[str, Quantity, Interval, str]]:
    """(kind, spent, budget interval, description) in order of preference."""
    out: list[tuple[str, Quantity, Interval, str]] = []
    spent = f.spent
    carry = f.carryover or f.prior_balance
    if spent is not None:
        if f.available is not None:
            out.append(("full", spent, iv(f.available, "万元"), f"可用资金{f.available.shown()}"))
        elif carry is not None and f.allocated is not None:
            out.append(
                (
                    "full",
                    spent,
                    total([iv(carry, "万元"), iv(f.allocated, "万元")]),
                    f"{'上年结转' if f.carryover else '上年结余'}{carry.shown()}+当年下达{f.allocated.shown()}",
                )
            )
        elif f.budget is not None:
            out.append(("full", spent, iv(f.budget, "万元"), f"全年预算数{f.budget.shown()}"))
        elif f.allocated is not None:
            out.append(("full", spent, iv(f.allocated, "万元"), f"当年下达{f.allocated.shown()}"))
    if f.spent_current is not None and f.allocated is not None:
        out.append(("current", f.spent_current, iv(f.allocated, "万元"), f"当年下达{f.allocated.shown()}"))
    if spent is not None and carry is not None and f.allocated is not None:
        out.append(("narrow", spent, iv(f.allocated, "万元"), f"当年下达{f.allocated.shown()}"))
    return out


@register("EXEC_RATE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """Stated 预算执行率 ≠ spent ÷ budget; matching only the allocation without carryover is a warning."""
    seen: set[tuple[object, ...]] = set()
    for f in facts.fund_flows:
        rate = f.rate
        if rate is None:
            continue
        # Two readers may read one table row (a 自评表 money row): one rate, one relation.
        key = (rate.evidence.end, rate.value, f.spent.value if f.spent else None)
        if key in seen:
            continue
        seen.add(key)
        bases = [(k, s, b, d, pct(s.interval, b)) for k, s, b, d in _bases(f)]
        bases = [x for x in bases if x[4] is not None]
        if not bases:
            continue
        dec = rate.decimals
        fits = next(((s, d, c) for k, s, _b, d, c in bases if k in {"full", "current"} and consistent(rate, c)), None)
        if fits is not None:
            spent, desc, comp = fits
            assert comp is not None
            yield make_flag(
                "EXEC_RATE",
                Severity.ERROR,
                f"{f.name}预算执行率写为{rate.text}%，按支出{spent.shown()}÷{desc}计算为{computed_text(comp, dec)}%",
                rate,
                computed_text(comp, dec) + "%",
                diff_text(rate, comp, dec),
                [rate.evidence, spent.evidence],
                formula=f"{spent.shown()}÷{desc}×100%",
                ok=True,
            )
            continue
        _kind, spent, _b, desc, comp = bases[0]
        assert comp is not None
        evidence = [rate.evidence, spent.evidence]
        formula = f"{spent.shown()}÷{desc}×100%"
        narrow = next((x for x in bases if x[0] == "narrow" and consistent(rate, x[4])), None)
        if narrow is not None:
            yield make_flag(
                "EXEC_RATE",
                Severity.WARNING,
                f"{f.name}预算执行率写为{rate.text}%，按支出{spent.shown()}÷{desc}计算为"
                f"{computed_text(comp, dec)}%（仅与{narrow[3]}口径相符，未计入上年结转/结余）",
                rate,
                computed_text(comp, dec) + "%",
                diff_text(rate, comp, dec),
                evidence,
                formula=formula,
            )
            continue
        others = "；".join(
            f"按{s.shown()}÷{d}为{computed_text(c, dec)}%" for k, s, _b, d, c in bases[1:] if c is not None
        )
        yield make_flag(
            "EXEC_RATE",
            Severity.ERROR,
            f"{f.name}预算执行率写为{rate.text}%，按支出{spent.shown()}÷{desc}计算为{computed_text(comp, dec)}%"
            + (f"（{others}）" if others else ""),
            rate,
            computed_text(comp, dec) + "%",
            diff_text(rate, comp, dec),
            evidence,
            formula=formula,
        )
