"""Statement readers: a row whose subject is timeliness, called 及时 in one cell and admitted late in another."""

from __future__ import annotations

from ._read import facts

READERS = ("claims.timeliness",)


def test_timeliness_rows() -> None:
    text = (
        "指标\t情况说明\t存在问题\n"
        "资金下达及时性\t资金已及时下达\t未在规定的30日内分配下达\n"
        "资金拨付及时性\t按时拨付到位\t无\n"
    )
    got = facts(text, "claims.timeliness").statements
    assert [(s.subject, s.kind) for s in got] == [
        ("资金下达及时性", "timely"),
        ("资金下达及时性", "late"),
        ("资金拨付及时性", "timely"),
    ]
