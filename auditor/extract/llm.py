"""The LLM extractor: Instructor over any OpenAI-compatible endpoint, chunked, cached, retried.

The model fills a simplified schema (numbers as written, each with a verbatim quote); it is
converted to auditor.facts models here. Offsets come from finding each quote in the chunk it
was read from, never from the model; the pipeline then grounds every value against the Unit.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import json
import logging
import os
import re
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import instructor
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from auditor.errors import ConfigError, LLMError
from auditor.extract import ExtractConfig, ExtractResult
from auditor.extract.cache import LLMCache, cache_key
from auditor.extract.relations import Builder, Reply
from auditor.facts import SCHEMA_VERSION, Evidence, Facts, FundFlow, Quantity
from auditor.numbers import canonical, fold
from auditor.units import Unit

# Instructor logs every failed attempt at ERROR level; without a handler Python's last-resort
# handler would print those to the CLI's stderr. A NullHandler keeps them silent unless the
# application configures logging, and they still propagate to its handlers.
logging.getLogger("instructor").addHandler(logging.NullHandler())

LLM_SCHEMA_VERSION = "2"
DEFAULT_PROMPT = "extract_facts.md"
DEFAULT_CHUNK_CHARS = 6000
DEFAULT_REASK = 1
DEFAULT_BACKOFF = 1.0
DEFAULT_BACKOFF_MAX = 30.0
DEFAULT_RETRY_AFTER_MAX = 120.0
DEFAULT_MAX_TOKENS: int | None = None  # the server's own limit unless configured
_MODES = {"tools": instructor.Mode.TOOLS, "json": instructor.Mode.JSON, "md_json": instructor.Mode.MD_JSON}
_RETRY_STATUS = {408, 409, 429}

# ----------------------------------------------------------------------------- what the model is asked for

# The relations a model can add (auditor.extract.relations); every other kind of Fact is the rules' alone.
ITEM_LISTS = ("fund_flows", "sums", "ratios", "changes", "scores")
RULES_ONLY = (
    "restatements",
    "products",
    "item_counts",
    "indicators",
    "ratings",
    "claims",
    "statements",
    "fund_mentions",
)
HANDLED_FIELDS = frozenset({*ITEM_LISTS, *RULES_ONLY, "fund", "dropped"})
# The schema the model sees is part of the cache key, so editing a description cannot serve stale replies.
_SCHEMA_SHA = hashlib.sha256(
    json.dumps(Reply.model_json_schema(), sort_keys=True, ensure_ascii=False).encode("utf-8")
).hexdigest()[:12]
# Each section of report text in a request stands between these markers, after its title.
BEGIN, END = "<<<报告原文>>>\n", "\n<<<原文结束>>>"


# ----------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompt:
    """A prompt file: `version: N` on its first line, then `=== system ===` and `=== user ===` sections."""

    version: str
    system: str
    user: str
    sha: str

    def render(self, **values: str) -> str:
        # Plain replacement so braces in the template (JSON examples) need no escaping.
        out = self.user
        for k, v in values.items():
            out = out.replace("{" + k + "}", v)
        return out


def prompts_dir() -> Path:
    """The prompts shipped inside the package (auditor/prompts), or $AUDITOR_PROMPTS_DIR."""
    env = os.environ.get("AUDITOR_PROMPTS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "prompts"


def load_prompt(name: str = DEFAULT_PROMPT, directory: Path | None = None) -> Prompt:
    """Read and parse a prompt file; raises ConfigError when it is missing or malformed."""
    path = (directory or prompts_dir()) / name
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"找不到提示词文件 {path}（可用 AUDITOR_PROMPTS_DIR 指定目录）") from exc
    m = re.match(r"\s*version:\s*(\S+)\s*\n(.*?)^=== system ===\s*\n(.*?)^=== user ===\s*\n(.*)\Z", raw, re.S | re.M)
    if not m:
        raise ConfigError(f"提示词文件 {path} 格式不对：需要 version 行和 === system === / === user === 两节")
    return Prompt(
        m.group(1), m.group(3).strip(), m.group(4).strip(), hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
    )


# ----------------------------------------------------------------------------- chunking


def chunk_text(text: str, max_chars: int) -> list[tuple[int, str]]:
    """Cut text into pieces of at most max_chars on paragraph, then line (table row), then sentence ends.

    Returns (offset, piece) pairs whose pieces concatenate back to the text exactly.
    """
    if len(text) <= max_chars:
        return [(0, text)] if text else []
    segments = _segments(text, 0, len(text), max_chars)
    out: list[tuple[int, str]] = []
    start = end = segments[0][0]
    for a, b in segments:
        if b - start > max_chars and end > start:
            out.append((start, text[start:end]))
            start = a
        end = b
    out.append((start, text[start:end]))
    return out


def _segments(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans covering text[a:b], each at most max_chars, cut at the coarsest boundary that works."""
    if b - a <= max_chars:
        return [(a, b)]
    for pattern in (r"\n\s*\n", r"\n", r"[。；;！？!?]"):
        cuts = [m.end() for m in re.finditer(pattern, text[a:b])]
        cuts = [a + c for c in cuts if 0 < c < b - a]
        if cuts:
            out: list[tuple[int, int]] = []
            prev = a
            for c in [*cuts, b]:
                out.extend(_segments(text, prev, c, max_chars) if c - prev > max_chars else [(prev, c)])
                prev = c
            return out
    return [(i, min(i + max_chars, b)) for i in range(a, b, max_chars)]


def halve(text: str) -> list[tuple[int, str]]:
    """Split a piece in two at the coarsest boundary near its middle, for output that was truncated."""
    n = len(text)
    for pattern in (r"\n\s*\n", r"\n", r"[。；;！？!?]"):
        cuts = [m.end() for m in re.finditer(pattern, text) if n * 0.2 <= m.end() <= n * 0.8]
        if cuts:
            c = min(cuts, key=lambda c: abs(c - n / 2))
            return [(0, text[:c]), (c, text[c:])]
    return [(0, text[: n // 2]), (n // 2, text[n // 2 :])]


# ----------------------------------------------------------------------------- locating quotes in a chunk


class QuoteFinder:
    """Finds every occurrence of a quote in a chunk after folding full-width forms and dropping spaces
    and thousands separators (the same normalisation grounding uses), mapped to document offsets."""

    def __init__(self, text: str, base: int) -> None:
        folded = fold(text)
        chars: list[str] = []
        offs: list[int] = []
        for i, c in enumerate(folded):
            if c.isspace() or (
                c == ","
                and 0 < i
                and folded[i - 1].isdigit()
                and folded[i + 1 : i + 4].isdigit()
                and len(folded[i + 1 : i + 4]) == 3
            ):
                continue
            chars.append(c)
            offs.append(base + i)
        self.squeezed = "".join(chars)
        self.offs = offs
        # Numbers are looked up with spaces kept: squeezing would glue neighbouring cells ("≥640\t640").
        self.spaced = re.sub(r"\s+", " ", re.sub(r"(?<=\d),(?=\d{3})", "", folded))

    @staticmethod
    def squeeze(s: str) -> str:
        s = re.sub(r"(?<=\d),(?=\d{3})", "", fold(s))
        return re.sub(r"\s+", "", s)

    def all(self, quote: str) -> list[tuple[int, int]]:
        q = self.squeeze(quote)
        out: list[tuple[int, int]] = []
        if not q:
            return out
        k = self.squeezed.find(q)
        while k >= 0:
            out.append((self.offs[k], self.offs[k + len(q) - 1] + 1))
            k = self.squeezed.find(q, k + 1)
        return out

    def number_span(self, start: int, end: int, num: str) -> tuple[int, int]:
        """Document offsets of the number inside the span [start, end), or the span itself."""
        i, j = bisect.bisect_left(self.offs, start), bisect.bisect_left(self.offs, end)
        c = canonical(num)
        k = self.squeezed.find(c, i, j) if c else -1
        return (self.offs[k], self.offs[k + len(c) - 1] + 1) if k >= 0 else (start, end)

    def has_number(self, num: str) -> bool:
        c = canonical(num)
        return bool(c) and re.search(rf"(?<![\d.]){re.escape(c)}(?!\d|\.\d)", self.spaced) is not None


def _evidence_slots(obj: Any) -> list[tuple[Any, str, Evidence]]:
    """(owner, attribute, Evidence) for every Evidence inside a Facts item, so it can be replaced."""
    out: list[tuple[Any, str, Evidence]] = []
    if isinstance(obj, list):
        for x in obj:
            out.extend(_evidence_slots(x))
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            v = getattr(obj, name)
            if isinstance(v, Evidence):
                out.append((obj, name, v))
            elif isinstance(v, (BaseModel, list)):
                out.extend(_evidence_slots(v))
    return out


def _place(item: Any, finder: QuoteFinder, anchor: float | None) -> float | None:
    """Give every quote of one item its offsets in the chunk and return the item's anchor.

    A quote found once is placed there, and the first such place is the anchor. A quote found several times
    (a bare "95%" in a table row) takes the occurrence nearest the number of the value placed before
    it in the item but not on its digits, preferring one after it since fields are listed in reading
    order (target, then actual); with nothing placed yet, the occurrence nearest the anchor.
    """
    slots = _evidence_slots(item)
    found = [(slot, finder.all(slot[2].quote)) for slot in slots]
    unique = [spans[0][0] for _, spans in found if len(spans) == 1]
    if unique:
        anchor = min(unique)  # an item starts where its first certain quote stands (a root before its rows)
    prev: tuple[int, int] | None = None
    for (owner, name, ev), spans in found:
        if not spans:
            continue  # left to grounding, which searches the whole Unit or drops the value
        if len(spans) == 1:
            s, e = spans[0]
        elif prev is not None:
            # Another value of the item does not sit on the previous value's digits; then nearest wins.
            a, b = prev
            s, e = min(spans, key=lambda sp: (sp[0] < b and a < sp[1], abs(sp[0] - b), sp[0] < b))
        else:
            ref = anchor if anchor is not None else spans[0][0]
            s, e = min(spans, key=lambda sp: (abs(sp[0] - ref), sp[0]))
        setattr(owner, name, Evidence(quote=ev.quote, start=s, end=e))
        if isinstance(owner, Quantity):
            prev = finder.number_span(s, e, owner.text)
    return anchor


# ----------------------------------------------------------------------------- faults


def _redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return re.sub(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}", r"\1***", text)


def _cause(exc: BaseException) -> BaseException:
    """The transport error under Instructor's wrapper, or the exception itself."""
    if isinstance(exc, InstructorRetryException) and isinstance(exc.__cause__, openai.OpenAIError):
        return exc.__cause__
    return exc


def _transient(exc: BaseException) -> bool:
    """429, 408/409, 5xx, timeouts and dropped connections are worth another try; nothing else is."""
    c = _cause(exc)
    if isinstance(c, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(c, openai.APIStatusError):
        return c.status_code in _RETRY_STATUS or c.status_code >= 500
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After or retry-after-ms), if it said so."""
    c = _cause(exc)
    resp = getattr(c, "response", None)
    headers = getattr(resp, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Wait:
    """Exponential backoff with jitter, replaced by the server's Retry-After when it gives one."""

    def __init__(self, base: float, cap: float, retry_after_max: float) -> None:
        self.jitter = wait_random_exponential(multiplier=base, max=cap)
        self.retry_after_max = retry_after_max

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ra = retry_after(exc) if exc else None
        if ra is not None:
            return min(ra, self.retry_after_max)
        return float(self.jitter(state))


def _describe(exc: BaseException, secret: str | None) -> tuple[str, int | None]:
    """A one-line reason and HTTP status for a failure, with no key and no response dump."""
    c = _cause(exc)
    status = getattr(c, "status_code", None)
    if isinstance(c, openai.APITimeoutError):
        why = "请求超时"
    elif isinstance(c, openai.APIConnectionError):
        why = "连接失败或被中断"
    elif isinstance(c, openai.AuthenticationError):
        why = "HTTP 401 鉴权失败（检查 OPENAI_API_KEY）"
    elif isinstance(c, openai.APIStatusError):
        msg = ""
        body = c.body
        if isinstance(body, dict):
            err = body.get("error", body)
            msg = str(err.get("message", "")) if isinstance(err, dict) else str(err)
        why = f"HTTP {c.status_code}" + (f"：{' '.join(msg.split())[:120]}" if msg else "")
    elif isinstance(c, InstructorRetryException):
        n = getattr(c, "n_attempts", None)
        fails = getattr(c, "failed_attempts", None) or []
        first = str(fails[-1].exception).strip().splitlines()[0] if fails else str(c).splitlines()[0]
        why = f"模型输出不符合结构（{n}次请求）：{first[:120]}"
    else:
        why = f"{type(c).__name__}: {' '.join(str(c).split())[:120]}"
    return _redact(why, secret), status if isinstance(status, int) else None


class _Truncated(Exception):
    """The reply hit the output limit (finish_reason length)."""


# ----------------------------------------------------------------------------- the extractor


@dataclass
class _Tally:
    """What one Unit's extraction cost and found."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    chunks: int = 0
    cached_chunks: int = 0
    facts: list[Facts] = field(default_factory=list)


@dataclass
class _Outcome:
    """What one request (and its halves, if it had to be split) cost and found, Facts by Unit index."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    facts: list[tuple[int, Facts]] = field(default_factory=list)

    def absorb(self, other: _Outcome) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.facts.extend(other.facts)


@dataclass(frozen=True)
class Section:
    """A stretch of one Unit's text in a request: the Unit's index in the file, where the stretch starts in
    the Unit, the text and the Unit's title."""

    unit: int
    offset: int
    text: str
    title: str


def render_sections(sections: list[Section]) -> str:
    """The report text of a request: each section after its report's title, between the markers."""
    return "\n\n".join(f"《{s.title}》\n{BEGIN}{s.text}{END}" for s in sections)


def pack(units: list[Unit], max_chars: int) -> list[list[Section]]:
    """The requests for a file's Units: each Unit cut at paragraph ends into pieces of at most `max_chars`,
    then consecutive pieces joined into one request while they fit, so a cover letter rides along with the
    next report instead of costing a request of its own."""
    pieces = [
        Section(i, offset, text, u.title)
        for i, u in enumerate(units)
        for offset, text in chunk_text(u.text, max_chars)
        if text.strip()
    ]
    requests: list[list[Section]] = []
    size = 0
    for p in pieces:
        if requests and size + len(p.text) <= max_chars:
            requests[-1].append(p)
            size += len(p.text)
        else:
            requests.append([p])
            size = len(p.text)
    return requests


def _setting(config: ExtractConfig, name: str, override: Any, default: Any) -> Any:
    if override is not None:
        return override
    value = getattr(config, name, None)
    return default if value is None else value


class LLMExtractor:
    """Extracts Facts with an LLM through Instructor; thread-safe, so Units can run concurrently."""

    name = "llm"

    def __init__(
        self,
        config: ExtractConfig,
        *,
        chunk_chars: int | None = None,
        reask: int | None = None,
        backoff: float | None = None,
        backoff_max: float | None = None,
        retry_after_max: float | None = None,
        max_tokens: int | None = None,
        prompt: Prompt | None = None,
        cache: LLMCache | None = None,
    ) -> None:
        if not config.model:
            raise ConfigError("使用 llm 抽取需要指定模型：--model 或环境变量 AUDITOR_MODEL")
        if config.mode not in _MODES:
            raise ConfigError(f"未知的 --mode {config.mode}，可选 tools、json、md_json")
        self.model = config.model
        self.mode = config.mode
        self.base_url = (config.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip(
            "/"
        )
        self._secret = config.api_key
        self.max_attempts = max(1, int(config.max_attempts))
        self.concurrency = max(1, int(config.concurrency))
        self.chunk_chars = int(_setting(config, "chunk_chars", chunk_chars, DEFAULT_CHUNK_CHARS))
        self.reask = int(_setting(config, "reask", reask, DEFAULT_REASK))
        self.backoff = float(_setting(config, "backoff", backoff, DEFAULT_BACKOFF))
        self.backoff_max = float(_setting(config, "backoff_max", backoff_max, DEFAULT_BACKOFF_MAX))
        self.retry_after_max = float(_setting(config, "retry_after_max", retry_after_max, DEFAULT_RETRY_AFTER_MAX))
        self.max_tokens = _setting(config, "max_tokens", max_tokens, DEFAULT_MAX_TOKENS)
        self.prompt = prompt or load_prompt()
        if cache is not None:
            self.cache: LLMCache | None = cache
        elif config.no_cache:
            self.cache = None
        else:
            self.cache = LLMCache(LLMCache.default_path(config.cache_dir))
        # Tenacity owns retries, so the client's own are off; a local server needs no key but the
        # client insists on one, hence the placeholder.
        self._client = openai.OpenAI(
            api_key=config.api_key or "no-key", base_url=self.base_url, max_retries=0, timeout=config.timeout
        )
        self._instructor = instructor.from_openai(self._client, mode=_MODES[self.mode])

    def __repr__(self) -> str:  # never show the key
        return f"LLMExtractor(model={self.model!r}, base_url={self.base_url!r}, mode={self.mode!r})"

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ public
    def extract(self, unit: Unit) -> ExtractResult:
        """Facts of one Unit; raises LLMError when the retry budget is spent."""
        [result] = self.extract_all([unit])
        if isinstance(result, LLMError):
            raise result
        return result

    def extract_all(self, units: list[Unit], pool: Executor | None = None) -> list[ExtractResult | LLMError]:
        """Facts of the Units of one file, asked in requests sized to the work: small Units share a request up
        to the chunk size, long ones are cut at paragraph ends, and the requests run at once on `pool` (or on
        --concurrency threads). A Unit whose request failed gets the LLMError in its place."""
        requests = pack(units, self.chunk_chars)
        tallies = [_Tally() for _ in units]
        if not requests:
            return [self._result(t) for t in tallies]

        def run(sections: list[Section]) -> _Outcome | LLMError:
            try:
                return self._request(units, sections, may_split=True)
            except LLMError as exc:
                return exc

        if pool is not None and len(requests) > 1:
            outcomes = list(pool.map(run, requests))
        elif self.concurrency > 1 and len(requests) > 1:
            with ThreadPoolExecutor(min(self.concurrency, len(requests))) as own:
                outcomes = list(own.map(run, requests))
        else:
            outcomes = [run(r) for r in requests]
        failed: dict[int, LLMError] = {}
        for sections, outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, LLMError):
                for s in sections:
                    failed.setdefault(s.unit, outcome)
                continue
            # A request's cost is the first of its Units': the file's total stays right.
            first = tallies[sections[0].unit]
            first.calls += outcome.calls
            first.prompt_tokens += outcome.prompt_tokens
            first.completion_tokens += outcome.completion_tokens
            for s in sections:
                tallies[s.unit].chunks += 1
                tallies[s.unit].cached_chunks += int(outcome.cached)
            for i, facts in outcome.facts:
                tallies[i].facts.append(facts)
        return [failed[i] if i in failed else self._result(t) for i, t in enumerate(tallies)]

    def take_notes(self) -> list[str]:
        """What went wrong around the requests since the last call (a cache moved aside or turned off)."""
        return self.cache.take_warnings() if self.cache is not None else []

    def _result(self, tally: _Tally) -> ExtractResult:
        facts = merge_chunks(tally.facts)
        return ExtractResult(
            facts=facts,
            extractor=self.name,
            llm_calls=tally.calls,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            cached=tally.chunks > 0 and tally.cached_chunks == tally.chunks,
        )

    # ------------------------------------------------------------------ one request
    def _messages(self, sections: list[Section]) -> list[dict[str, str]]:
        body = render_sections(sections)
        return [
            {"role": "system", "content": self.prompt.system},
            {"role": "user", "content": self.prompt.render(sections=body)},
        ]

    def _key(self, messages: list[dict[str, str]]) -> str:
        text_hash = hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode("utf-8")).hexdigest()
        return cache_key(
            text_hash=text_hash,
            model=self.model,
            base_url=self.base_url,
            mode=self.mode,
            prompt_version=self.prompt.version,
            schema_version=f"{SCHEMA_VERSION}.{LLM_SCHEMA_VERSION}.{_SCHEMA_SHA}",
        )

    def _request(self, units: list[Unit], sections: list[Section], may_split: bool) -> _Outcome:
        messages = self._messages(sections)
        key = self._key(messages)
        outcome = _Outcome()
        hit = self.cache.get(key) if self.cache is not None else None
        reply: Reply | None = None
        if hit is not None and hit.get("split"):
            return self._split(units, sections, outcome, cached=True)
        if hit is not None:
            try:
                reply = Reply.model_validate(hit["reply"])
                outcome.cached = True
            except (ValidationError, KeyError, TypeError):
                # A poisoned or outdated entry: evicted, and the model asked again (once, as any miss).
                self._evict(key)
        if reply is None:
            try:
                reply = self._ask(messages, outcome)
            except _Truncated:
                if not may_split or (len(sections) == 1 and len(sections[0].text) < 2):
                    raise LLMError("模型输出被截断（finish_reason=length），缩小分块后仍被截断") from None
                if self.cache is not None:
                    self.cache.put(key, {"split": True}, model=self.model, prompt_version=self.prompt.version)
                return self._split(units, sections, outcome, cached=False)
            if self.cache is not None:
                self.cache.put(
                    key, {"reply": reply.model_dump(mode="json")}, model=self.model, prompt_version=self.prompt.version
                )
        self._attribute(reply, units, sections, outcome)
        return outcome

    def _evict(self, key: str) -> None:
        if self.cache is not None:
            self.cache.evict(key)

    def _split(self, units: list[Unit], sections: list[Section], outcome: _Outcome, cached: bool) -> _Outcome:
        """Truncated output shrinks the request once: its sections in two halves, or a lone section's text."""
        if len(sections) > 1:
            mid = len(sections) // 2
            halves = [sections[:mid], sections[mid:]]
        else:
            s = sections[0]
            halves = [[Section(s.unit, s.offset + o, p, s.title)] for o, p in halve(s.text) if p.strip()]
        for half in halves:
            part = self._request(units, half, may_split=False)
            outcome.absorb(part)
        outcome.cached = cached and outcome.calls == 0
        return outcome

    def _attribute(self, reply: Reply, units: list[Unit], sections: list[Section], outcome: _Outcome) -> None:
        """Build each relation into Facts and give it to the section whose text holds all its quotes (a relation
        whose quotes stand in two reports, or in none, is dropped and counted)."""
        builder = Builder()
        finders = [QuoteFinder(s.text, units[s.unit].start + s.offset) for s in sections]
        anchors: list[float | None] = [None] * len(sections)
        per_section = [Facts() for _ in sections]
        for relation in reply.relations:
            before = builder.dropped
            one = Facts()
            home: int | None = None
            if builder.relation(relation, one):
                name = next(n for n in ITEM_LISTS if getattr(one, n))
                item = getattr(one, name)[0]
                quotes = [slot[2].quote for slot in _evidence_slots(item)]
                home = next((k for k, f in enumerate(finders) if all(f.all(q) for q in quotes)), None)
                if home is not None:
                    anchors[home] = _place(item, finders[home], anchors[home])
                    if isinstance(item, FundFlow) and not item.name:
                        item.name = units[sections[home].unit].fund
                    getattr(per_section[home], name).append(item)
                    continue
            # Not used: counted on the report its headline quote stands in (the first one when it stands nowhere),
            # so a cover letter sharing the request is not charged with the next report's drops.
            builder.dropped += 1
            where = (
                home
                if home is not None
                else next((k for k, f in enumerate(finders) if f.all(relation.stated.quote)), 0)
            )
            per_section[where].dropped += builder.dropped - before
        outcome.facts.extend((s.unit, f) for s, f in zip(sections, per_section, strict=True))

    def _ask(self, messages: list[dict[str, str]], tally: _Outcome) -> Reply:
        """One structured request under the retry budget; usage and request count go to the tally."""
        hooks = Hooks()

        # The hooks run in this thread and the tally belongs to this Unit, so no lock is needed.
        def on_request(*_a: Any, **_k: Any) -> None:
            tally.calls += 1

        def on_response(response: Any) -> None:
            usage = getattr(response, "usage", None)
            if usage is not None:
                tally.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
                tally.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)

        hooks.on("completion:kwargs", on_request)
        hooks.on("completion:response", on_response)
        extra: dict[str, Any] = {"temperature": 0}
        if self.max_tokens:
            extra["max_tokens"] = int(self.max_tokens)
        retrying = Retrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=_Wait(self.backoff, self.backoff_max, self.retry_after_max),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    reply, _completion = self._instructor.chat.completions.create_with_completion(
                        model=self.model,
                        messages=messages,
                        response_model=Reply,
                        max_retries=self.reask,
                        hooks=hooks,
                        **extra,
                    )
                    return reply
        except IncompleteOutputException:
            raise _Truncated() from None
        except Exception as exc:  # every other failure becomes one clean line
            if isinstance(exc, InstructorRetryException) and isinstance(exc.__cause__, IncompleteOutputException):
                raise _Truncated() from None
            reason, status = _describe(exc, self._secret)
            tries = tally.calls
            raise LLMError(f"LLM 抽取失败（{self.model}，共{tries}次请求）：{reason}", status=status) from None
        raise LLMError("LLM 抽取失败：没有得到回答")  # pragma: no cover - Retrying always returns or raises


# ----------------------------------------------------------------------------- merging chunks


def merge_chunks(parts: list[Facts]) -> Facts:
    """Facts of a Unit from its requests: lists concatenated in text order, exact repeats dropped. Flows are not
    joined across requests: each is one relation the model quoted whole, and two funds named alike are two."""
    out = Facts()
    seen: set[str] = set()
    for f in parts:
        out.dropped += f.dropped
        out.fund = out.fund or f.fund
        for name in ITEM_LISTS:
            for item in getattr(f, name):
                sig = name + item.model_dump_json()
                if sig not in seen:
                    seen.add(sig)
                    getattr(out, name).append(item)
    return out


def warm_up() -> None:
    """Load what the first request would load lazily (the SDK's resources, its HTTP and TLS stack, Instructor's
    patching): run once in the forkserver, so each worker process starts with it instead of paying ~0.8 s."""
    client = openai.OpenAI(api_key="warm-up", base_url="http://127.0.0.1:9/v1", max_retries=0)
    try:
        for mode in _MODES.values():
            instructor.from_openai(client, mode=mode)
        Reply.model_json_schema()
    finally:
        client.close()
