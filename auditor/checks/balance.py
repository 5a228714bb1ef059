"""BALANCE: year-end balances against available funds minus spending, and rolling balances."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks import register
from auditor.checks._common import computed_text, consistent, decimals_in, diff_text, iv, make_flag
from auditor.facts import Facts, FundFlow
from auditor.flags import Flag, Severity
from auditor.intervals import Interval, total


def _available(f: FundFlow, unit: str) -> tuple[Interval, str] | None:
    if f.balance is not None and re.search(r"收支结余|本年结余|当年结余|本年度结余", f.balance.label):
        # This year's surplus: this year's money in minus this year's spending, carryover aside.
        if f.allocated is not None:
            return iv(f.allocated, unit), f"本年收入{f.allocated.shown()}"
        if f.budget is not None:
            return iv(f.budget, unit), f"本年预算{f.budget.shown()}"
    if f.available is not None:
        return iv(f.available, unit), f"可用资金{f.available.shown()}"
    if f.carryover is not None and f.allocated is not None:
        return (
            total([iv(f.carryover, unit), iv(f.allocated, unit)]),
            f"上年结转{f.carryover.shown()}+当年下达{f.allocated.shown()}",
        )
    if f.budget is not None:
        return iv(f.budget, unit), f"预算数{f.budget.shown()}"
    if f.allocated is not None:
        return iv(f.allocated, unit), f"收入{f.allocated.shown()}"
    return None


@register("BALANCE", Severity.ERROR)
def check(facts: Facts) -> Iterator[Flag]:
    """Balance ≠ available − spent; closing balance ≠ prior-year balance + this year's surplus."""
    for f in facts.fund_flows:
        avail = _available(f, f.balance.unit) if f.balance is not None else None
        if f.balance is not None and f.spent is not None and avail is not None:
            unit = f.balance.unit
            comp = avail[0] - iv(f.spent, unit)
            dec = max(f.balance.decimals, decimals_in(f.spent, unit))
            yield make_flag(
                "BALANCE",
                Severity.ERROR,
                f"{f.name}结余写为{f.balance.shown()}，按{avail[1]}−支出{f.spent.shown()}计算为"
                f"{computed_text(comp, dec)}{f.balance.unit}",
                f.balance,
                computed_text(comp, dec),
                diff_text(f.balance, comp, dec),
                [f.balance.evidence, f.spent.evidence],
                formula=f"{avail[1]}−支出{f.spent.shown()}",
                ok=consistent(f.balance, comp),
            )
        if f.closing_balance is not None and f.prior_balance is not None and f.balance is None:
            if f.allocated is not None and f.spent is not None:
                # No surplus stated: the year's income and spending roll the opening balance forward.
                unit = f.closing_balance.unit
                comp = iv(f.prior_balance, unit) + iv(f.allocated, unit) - iv(f.spent, unit)
                dec = max(decimals_in(q, unit) for q in (f.prior_balance, f.allocated, f.spent))
                formula = f"年初{f.prior_balance.shown()}+收入{f.allocated.shown()}−支出{f.spent.shown()}"
                # A balance rolled from one year's column to the next is implied, not stated: statistics may
                # carry adjustments (a merged fund, transfers), so a gap is noted, not called an error.
                yield make_flag(
                    "BALANCE",
                    Severity.INFO if f.inferred else Severity.ERROR,
                    f"{f.name}年末结余写为{f.closing_balance.shown()}，按{formula}计算为"
                    f"{computed_text(comp, dec)}{f.closing_balance.unit}"
                    + ("（逐年滚存推算，统计口径可能含调整）" if f.inferred else ""),
                    f.closing_balance,
                    computed_text(comp, dec),
                    diff_text(f.closing_balance, comp, dec),
                    [f.closing_balance.evidence, f.prior_balance.evidence, f.allocated.evidence, f.spent.evidence],
                    formula=formula,
                    ok=consistent(f.closing_balance, comp),
                )
        if f.closing_balance is not None and f.prior_balance is not None and f.balance is not None:
            unit = f.closing_balance.unit
            comp = iv(f.prior_balance, unit) + iv(f.balance, unit)
            dec = max(decimals_in(f.prior_balance, unit), decimals_in(f.balance, unit))
            yield make_flag(
                "BALANCE",
                Severity.ERROR,
                f"{f.name}年末滚存结余写为{f.closing_balance.shown()}，按上年结余{f.prior_balance.shown()}"
                f"+本年结余{f.balance.shown()}计算为{computed_text(comp, dec)}{f.closing_balance.unit}",
                f.closing_balance,
                computed_text(comp, dec),
                diff_text(f.closing_balance, comp, dec),
                [f.closing_balance.evidence, f.prior_balance.evidence, f.balance.evidence],
                formula=f"上年结余{f.prior_balance.shown()}+本年结余{f.balance.shown()}",
                ok=consistent(f.closing_balance, comp),
            )
