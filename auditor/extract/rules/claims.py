"""Statements in table rows: a subject called timely (及时) and admitted late in the same row."""

from __future__ import annotations

import re

from auditor.extract.rules import Context, register
from auditor.facts import Evidence, Facts, Statement
from auditor.layout import Table

_LATE = re.compile(r"未达到|未能及时|未及时|未按时|未按规定时[间限]|滞后|延迟|逾期|时间较晚|超过规定|未在.{0,16}内")
_TIMELY = re.compile(r"(?<![未不])(?:及时|按时|如期)")


def _statements(tables: list[Table]) -> list[Statement]:
    out: list[Statement] = []
    for t in tables:
        # A target column (指标值, 目标值) says what was planned, not what happened: it claims nothing.
        targets: set[int] = set()
        for r in t.rows:
            for i, c in enumerate(r.cells):
                if re.search(r"指标值|目标值|预期目标|年度目标", c.text):
                    targets.add(i)
        for r in t.rows:
            cells = [c for i, c in enumerate(r.cells) if c.text.strip() and i not in targets]
            if len(cells) < 3 or "及时" not in cells[0].text:
                continue
            subject = cells[0].text
            for c in cells[1:]:
                late = _LATE.search(c.text)
                if late:
                    s, e = c.doc_span(0, min(len(c.text), late.end() + 30))
                    out.append(Statement(subject=subject, kind="late", evidence=Evidence(quote="", start=s, end=e)))
                elif _TIMELY.search(c.text):
                    m = _TIMELY.search(c.text)
                    assert m is not None
                    s, e = c.doc_span(0, min(len(c.text), m.end() + 20))
                    out.append(Statement(subject=subject, kind="timely", evidence=Evidence(quote="", start=s, end=e)))
    return out


# ----------------------------------------------------------------------------- entry point


@register("claims.timeliness")
def timeliness(ctx: Context) -> Facts:
    """A row whose subject is 及时 with one cell claiming it on time and another admitting a delay."""
    return Facts(statements=_statements(ctx.tables))
