"""The LLM extractor against a real HTTP server on 127.0.0.1: replies, faults, request counts, outcomes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import run_checks
from auditor.errors import ConfigError, LLMError
from auditor.extract import ExtractConfig
from auditor.extract.llm import LLMExtractor
from auditor.grounding import ground
from auditor.numbers import canonical, fold

from .conftest import FAKE_KEY, extractor, unit_of, v
from .fake_openai import Drop, FakeOpenAI, Hang, Raw, Reply, Status

TEXT = (
    "一、资金情况\n"
    "2024年当年下达资金1,108万元，上年结转25.73万元，合计1133.73万元。\n"
    "实际支出883.3万元，预算执行率为77.52%。\n"
    "\n"
    "二、绩效目标完成情况\n"
    "参保人数216.96万人，完成比例99.5%。\n"
)


ALLOCATED = v("当年下达资金", "1,108", "万元", "当年下达资金1,108万元")
CARRYOVER = v("上年结转", "25.73", "万元", "上年结转25.73万元")
TOTAL = v("合计", "1133.73", "万元", "合计1133.73万元")
SPENT = v("实际支出", "883.3", "万元", "实际支出883.3万元")
RATE = v("预算执行率", "77.52", "%", "预算执行率为77.52%")
FLOW = {"kind": "flow", "stated": RATE, "operands": [ALLOCATED, CARRYOVER, TOTAL, SPENT]}
GOOD: dict[str, Any] = {"relations": [FLOW, {"kind": "sum", "stated": TOTAL, "operands": [ALLOCATED, CARRYOVER]}]}


def stated_numbers_occur(flags: list[Any], text: str) -> bool:
    """No flag states a number that is not in the text."""
    folded = fold(text).replace(",", "")
    return all(canonical(f.stated.rstrip("%")) in folded for f in flags if f.check != "GROUNDING")


def test_a_reply_becomes_facts_with_offsets_and_usage(tmp_path: Path) -> None:
    unit = unit_of(TEXT)
    with FakeOpenAI([Reply(GOOD, prompt_tokens=321, completion_tokens=123)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit)
        assert srv.count == 1
        body = srv.seen[0].body
    assert res.llm_calls == 1 and res.prompt_tokens == 321 and res.completion_tokens == 123 and not res.cached
    assert body["model"] == "m" and body["tools"][0]["function"]["name"] == "Reply"
    flow = res.facts.fund_flows[0]
    assert flow.allocated is not None and flow.allocated.value == 1108 and flow.allocated.text == "1,108"
    assert flow.rate is not None and flow.rate.decimals == 2
    ev = flow.spent.evidence if flow.spent else None
    assert ev is not None and ev.start is not None and TEXT[ev.start : ev.end] == "实际支出883.3万元"
    facts = ground(res.facts, unit)
    assert facts.dropped == 0
    checks = {f.check for f in run_checks(facts) if f.flagged}
    assert "EXEC_RATE" in checks  # 883.3 ÷ 1133.73 is 77.91%, not 77.52%


def test_rerun_is_served_from_the_cache_with_zero_requests(tmp_path: Path) -> None:
    unit = unit_of(TEXT)
    with FakeOpenAI([Reply(GOOD)]) as srv:
        first = extractor(srv.base_url, tmp_path).extract(unit)
        second = extractor(srv.base_url, tmp_path).extract(unit)
        assert srv.count == 1
    assert second.cached and second.llm_calls == 0 and second.prompt_tokens == 0
    assert second.facts == first.facts


def test_cache_key_changes_with_model_mode_and_base_url(tmp_path: Path) -> None:
    unit = unit_of(TEXT)
    with FakeOpenAI(responder=lambda body: Reply(GOOD)) as srv:
        extractor(srv.base_url, tmp_path).extract(unit)
        extractor(srv.base_url, tmp_path, model="other").extract(unit)
        extractor(srv.base_url, tmp_path, mode="json").extract(unit)
        extractor(srv.base_url + "/", tmp_path).extract(unit)  # same endpoint: a hit
        assert srv.count == 3


def test_no_cache_always_asks(tmp_path: Path) -> None:
    unit = unit_of(TEXT)
    with FakeOpenAI(responder=lambda body: Reply(GOOD)) as srv:
        extractor(srv.base_url, tmp_path, no_cache=True).extract(unit)
        extractor(srv.base_url, tmp_path, no_cache=True).extract(unit)
        assert srv.count == 2
    assert not (tmp_path / "cache").exists()


def test_429_waits_as_long_as_retry_after_says(tmp_path: Path) -> None:
    unit = unit_of(TEXT)
    with FakeOpenAI([Status(429, {"Retry-After": "0.6"}), Reply(GOOD)]) as srv:
        t0 = time.monotonic()
        res = extractor(srv.base_url, tmp_path).extract(unit)
        waited = time.monotonic() - t0
        assert srv.count == 2
    assert res.llm_calls == 2 and res.facts.fund_flows
    assert waited >= 0.55  # the backoff alone would be ~0.01 s


def test_500_is_retried_then_succeeds(tmp_path: Path) -> None:
    with FakeOpenAI([Status(500), Status(503), Reply(GOOD)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 3
    assert res.llm_calls == 3 and res.facts.fund_flows


def test_500_until_the_budget_is_spent_fails_the_unit(tmp_path: Path) -> None:
    with FakeOpenAI(responder=lambda body: Status(500, message="upstream exploded")) as srv:
        with pytest.raises(LLMError) as info:
            extractor(srv.base_url, tmp_path, max_attempts=3).extract(unit_of(TEXT))
        assert srv.count == 3
    err = info.value
    assert err.status == 500 and "HTTP 500" in err.reason and "3次请求" in err.reason
    assert "\n" not in err.reason and FAKE_KEY not in err.reason


def test_a_hang_past_the_timeout_is_retried(tmp_path: Path) -> None:
    with FakeOpenAI([Hang(5), Reply(GOOD)]) as srv:
        t0 = time.monotonic()
        res = extractor(srv.base_url, tmp_path, timeout=0.4).extract(unit_of(TEXT))
        assert srv.count == 2
        assert time.monotonic() - t0 < 3
    assert res.facts.fund_flows


def test_hanging_every_time_fails_with_a_timeout_reason(tmp_path: Path) -> None:
    with FakeOpenAI(responder=lambda body: Hang(5)) as srv:
        with pytest.raises(LLMError, match="超时"):
            extractor(srv.base_url, tmp_path, timeout=0.3, max_attempts=2).extract(unit_of(TEXT))
        assert srv.count == 2


def test_a_dropped_connection_is_retried(tmp_path: Path) -> None:
    with FakeOpenAI([Drop(), Reply(GOOD)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 2
    assert res.facts.fund_flows


def test_a_non_json_body_is_asked_again(tmp_path: Path) -> None:
    # openai hands Instructor the text; Instructor's re-ask (bounded by reask) sends one more request.
    with FakeOpenAI([Raw(), Reply(GOOD)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 2
    assert res.facts.fund_flows


def test_non_json_every_time_fails_after_the_reask_bound(tmp_path: Path) -> None:
    with FakeOpenAI(responder=lambda body: Raw()) as srv:
        with pytest.raises(LLMError, match="不符合结构"):
            extractor(srv.base_url, tmp_path, reask=1).extract(unit_of(TEXT))
        assert srv.count == 2


def test_a_reply_that_breaks_the_schema_is_reasked_with_the_error(tmp_path: Path) -> None:
    with FakeOpenAI([Reply('{"relations": "not a list"}'), Reply(GOOD)]) as srv:
        res = extractor(srv.base_url, tmp_path, reask=1).extract(unit_of(TEXT))
        assert srv.count == 2
        second = srv.seen[1].body["messages"]
    assert res.llm_calls == 2 and res.facts.fund_flows
    assert len(second) > 2  # the validation error went back to the model


def test_schema_errors_stop_at_the_reask_bound(tmp_path: Path) -> None:
    with FakeOpenAI(responder=lambda body: Reply('{"relations": 7}')) as srv:
        with pytest.raises(LLMError, match="不符合结构"):
            extractor(srv.base_url, tmp_path, reask=2).extract(unit_of(TEXT))
        assert srv.count == 3


def test_401_fails_at_once_without_the_key(tmp_path: Path) -> None:
    msg = f"Incorrect API key provided: {FAKE_KEY}"
    with FakeOpenAI([Status(401, message=msg)]) as srv:
        with pytest.raises(LLMError) as info:
            extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 1
    assert info.value.status == 401 and FAKE_KEY not in info.value.reason and "401" in info.value.reason


def test_400_is_not_retried_and_its_message_is_kept(tmp_path: Path) -> None:
    with FakeOpenAI([Status(400, message=f"response_format json_schema unsupported {FAKE_KEY}")]) as srv:
        with pytest.raises(LLMError) as info:
            extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 1
    assert "json_schema unsupported" in info.value.reason and FAKE_KEY not in info.value.reason


def test_truncated_output_shrinks_the_chunk_and_retries_once(tmp_path: Path) -> None:
    first_half = {"relations": [FLOW]}
    second_half = {"relations": []}
    with FakeOpenAI([Reply('{"relations": [', finish_reason="length"), Reply(first_half), Reply(second_half)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 3
        halves = [s.body["messages"][-1]["content"] for s in srv.seen[1:]]
    assert "实际支出883.3万元" in halves[0] and "参保人数" in halves[1]
    assert "参保人数" not in halves[0]
    assert res.llm_calls == 3 and res.facts.fund_flows[0].spent is not None


def test_truncated_again_after_shrinking_fails(tmp_path: Path) -> None:
    with FakeOpenAI(responder=lambda body: Reply("{", finish_reason="length")) as srv:
        with pytest.raises(LLMError, match="截断"):
            extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 2  # the whole chunk, then its first half


def test_truncation_rerun_is_free_too(tmp_path: Path) -> None:
    with FakeOpenAI([Reply("{", finish_reason="length"), Reply(GOOD), Reply({})]) as srv:
        extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        again = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 3
    assert again.cached and again.llm_calls == 0


def test_json_in_a_markdown_fence_is_read_in_md_json_mode(tmp_path: Path) -> None:
    with FakeOpenAI([Reply(GOOD, fence=True)]) as srv:
        res = extractor(srv.base_url, tmp_path, mode="md_json").extract(unit_of(TEXT))
        assert srv.count == 1
        assert "tools" not in srv.seen[0].body
    assert res.facts.fund_flows[0].rate is not None


def test_json_mode_sends_json_object_and_reads_plain_json(tmp_path: Path) -> None:
    with FakeOpenAI([Reply(GOOD)]) as srv:
        res = extractor(srv.base_url, tmp_path, mode="json").extract(unit_of(TEXT))
        assert srv.count == 1
        assert srv.seen[0].body["response_format"] == {"type": "json_object"}
    assert res.facts.fund_flows


def test_a_number_not_in_the_text_is_dropped_and_counted(tmp_path: Path) -> None:
    invented = {
        "relations": [
            {
                "kind": "flow",
                "stated": RATE,
                "operands": [
                    ALLOCATED,
                    v("实际支出", "465.41", "万元", "实际支出883.3万元"),  # the quote is real, its number is not
                ],
            },
            {"kind": "sum", "stated": v("合计", "999", "万元", "合计999万元"), "operands": [ALLOCATED, CARRYOVER]},
            {"kind": "flow", "stated": RATE, "operands": [ALLOCATED]},  # all of it in the text: kept
        ]
    }
    unit = unit_of(TEXT)
    with FakeOpenAI([Reply(invented)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit)
        assert srv.count == 1
    facts = ground(res.facts, unit)
    [flow] = facts.fund_flows
    assert flow.rate is not None and flow.allocated is not None and flow.spent is None
    assert facts.sums == []
    # The spent value and then its flow; the sum, whose total's quote stands nowhere in the text.
    assert facts.dropped == 3
    flags = run_checks(facts)
    grounding = [f for f in flags if f.check == "GROUNDING"]
    assert len(grounding) == 1 and grounding[0].stated == "3"
    assert stated_numbers_occur(flags, TEXT)
    assert not any("465.41" in f.message or "999" in f.message for f in flags)


def test_full_width_digits_are_grounded(tmp_path: Path) -> None:
    text = "当年下达资金１，１０８万元，实际支出８８３．３万元，预算执行率为７９．７２％。\n"
    reply = {
        "relations": [
            {
                "kind": "flow",
                "stated": v("预算执行率", "７９．７２", "％", "预算执行率为７９．７２％"),
                "operands": [
                    v("当年下达资金", "１，１０８", "万元", "当年下达资金１，１０８万元"),
                    v("实际支出", "883.3", "万元", "实际支出８８３．３万元"),
                ],
            }
        ]
    }
    unit = unit_of(text)
    with FakeOpenAI([Reply(reply)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit)
    facts = ground(res.facts, unit)
    flow = facts.fund_flows[0]
    assert facts.dropped == 0
    assert flow.allocated is not None and flow.allocated.value == 1108
    assert flow.spent is not None and str(flow.spent.value) == "883.3"
    assert flow.rate is not None and flow.rate.unit == "%" and flow.rate.evidence.start == text.index("预算")
    # 883.3 ÷ 1108 = 79.72%: consistent, so no EXEC_RATE flag
    assert not [f for f in run_checks(facts) if f.check == "EXEC_RATE" and f.flagged]


def test_a_value_whose_label_is_not_in_its_quote_is_dropped(tmp_path: Path) -> None:
    # A spent amount put in the budget's place: the report's words (实际支出) decide its role, and a label the
    # quote does not hold is not the report's word.
    reply = {
        "relations": [
            {"kind": "flow", "stated": RATE, "operands": [v("全年预算", "883.3", "万元", "实际支出883.3万元"), TOTAL]}
        ]
    }
    with FakeOpenAI([Reply(reply)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
    assert res.facts.fund_flows == [] and res.facts.dropped == 2  # the value, then its flow


def test_long_units_are_chunked_and_merged_with_document_offsets(tmp_path: Path) -> None:
    para = "（{i}）第{i}项工作预算资金{n}万元，实际支出{n}万元，按计划完成。\n\n"
    text = "".join(para.format(i=i, n=100 + i) for i in range(1, 41))
    prefix = "封面\n\n"
    doc_text = prefix + text

    def reply(body: dict[str, Any]) -> Reply:
        chunk = body["messages"][-1]["content"].split("<<<报告原文>>>\n", 1)[1]
        n = chunk.split("预算资金", 1)[1].split("万元", 1)[0]  # the chunk's first paragraph
        budget = v("预算资金", n, "万元", f"预算资金{n}万元")
        spent = v("实际支出", n, "万元", f"实际支出{n}万元")
        return Reply({"relations": [{"kind": "flow", "stated": spent, "operands": [budget]}]})

    from auditor.documents import Document
    from auditor.units import Unit

    doc = Document(path=Path("long.txt"), text=doc_text)
    unit = Unit(doc, 0, "长报告", "", "2024", len(prefix), len(doc_text))
    with FakeOpenAI(responder=reply) as srv:
        res = extractor(srv.base_url, tmp_path, chunk_chars=300).extract(unit)
        n = srv.count
    assert n >= 4 and res.llm_calls == n
    values = [f.spent.value for f in res.facts.fund_flows if f.spent]
    assert values == sorted(values) and len(values) == n
    for f in res.facts.fund_flows:
        for q in (f.spent, f.budget):
            assert q is not None and q.evidence.start is not None
            assert doc_text[q.evidence.start : q.evidence.end] == q.evidence.quote


def test_missing_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="AUDITOR_MODEL"):
        LLMExtractor(ExtractConfig(extractor="llm", model=None, no_cache=True))


def test_the_extractor_repr_hides_the_key(tmp_path: Path) -> None:
    ex = extractor("http://127.0.0.1:9/v1", tmp_path)
    assert FAKE_KEY not in repr(ex) and ex.name == "llm"


def test_a_cached_reply_that_no_longer_validates_is_evicted_and_asked_again(tmp_path: Path) -> None:
    import sqlite3

    unit = unit_of(TEXT)
    with FakeOpenAI(responder=lambda body: Reply(GOOD)) as srv:
        first = extractor(srv.base_url, tmp_path).extract(unit)
        db = sqlite3.connect(tmp_path / "cache" / "llm-cache.sqlite3")
        with db:
            db.execute("""UPDATE replies SET value = '{"reply": {"relations": "poisoned"}}'""")
        db.close()
        again = extractor(srv.base_url, tmp_path).extract(unit)
        assert srv.count == 2  # asked once more, not re-asked in a loop
        third = extractor(srv.base_url, tmp_path).extract(unit)
        assert srv.count == 2  # the fresh reply replaced the poisoned one
    assert not again.cached and again.llm_calls == 1 and third.cached
    assert again.facts == first.facts == third.facts


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (v("合计", "9e999999", "万元", "合计9e999999万元"), "not a numeral a report writes"),
        (v("增长率", "20", "%", "增长率为-20%"), "the sign the quote writes is dropped"),
        (v("实际支出", "883", "万元", "实际支出883.3万元"), "a number inside a longer one"),
    ],
)
def test_a_value_the_text_does_not_state_so_is_dropped(value: dict[str, str], why: str) -> None:
    from auditor.extract.relations import Builder, Value

    assert Builder().value(Value.model_validate(value)) is None, why


def test_a_unit_the_quote_does_not_write_is_not_taken_from_the_model() -> None:
    from auditor.extract.relations import Builder, Value

    guessed = Builder().value(Value.model_validate(v("合计", "100", "亿元", "合计100，")))
    written = Builder().value(Value.model_validate(v("合计", "100", "亿元", "合计100万元")))
    assert guessed is not None and guessed.unit == ""
    assert written is not None and written.unit == "万元"  # the report's own unit beats the model's


def test_numbers_and_nulls_where_strings_belong_are_read_as_text(tmp_path: Path) -> None:
    reply = {
        "relations": [
            {
                "kind": "sum",
                "stated": {"label": "合计", "number": 1133.73, "unit": None, "quote": "合计1133.73万元"},
                "operands": [ALLOCATED, CARRYOVER],
            }
        ]
    }
    with FakeOpenAI([Reply(reply)]) as srv:
        res = extractor(srv.base_url, tmp_path).extract(unit_of(TEXT))
        assert srv.count == 1  # no re-ask: the reply validated
    [total] = [s.total for s in res.facts.sums]
    assert total.text == "1133.73" and total.unit == "万元"
