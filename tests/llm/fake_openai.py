"""A real HTTP server on 127.0.0.1 that speaks /v1/chat/completions and replays scripted replies and faults.

Each request takes the next step of the script (or asks `responder` when the script is empty), and every
request's path, headers and JSON body is recorded so tests can count requests and look for leaked keys.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A successful completion: `payload` becomes the tool-call arguments (tools mode) or the content."""

    payload: dict[str, Any] | str
    finish_reason: str = "stop"
    fence: bool = False  # wrap the content in a ```json fence
    prompt_tokens: int = 100
    completion_tokens: int = 50


@dataclass
class Status:
    """An HTTP error status with a JSON error body and optional headers such as Retry-After."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "scripted error"


@dataclass
class Hang:
    """Sleep past the client's timeout before answering (the answer is never read)."""

    seconds: float


@dataclass
class Raw:
    """A 200 response whose body is not JSON."""

    body: bytes = b"<html>upstream gateway says hello</html>"
    content_type: str = "text/html"


@dataclass
class Drop:
    """Close the connection without sending any response."""


Step = Reply | Status | Hang | Raw | Drop


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _completion(body: dict[str, Any], step: Reply) -> dict[str, Any]:
    payload = step.payload if isinstance(step.payload, str) else json.dumps(step.payload, ensure_ascii=False)
    message: dict[str, Any] = {"role": "assistant", "content": None}
    tools = body.get("tools") or []
    if tools:
        name = tools[0]["function"]["name"]
        message["tool_calls"] = [{"id": "call_0", "type": "function", "function": {"name": name, "arguments": payload}}]
    else:
        message["content"] = f"```json\n{payload}\n```" if step.fence else payload
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tools and step.finish_reason == "stop" else step.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": step.prompt_tokens,
            "completion_tokens": step.completion_tokens,
            "total_tokens": step.prompt_tokens + step.completion_tokens,
        },
    }


class FakeOpenAI:
    """Start with `with FakeOpenAI(script) as srv:`; `srv.base_url` ends in /v1, `srv.count` counts requests."""

    def __init__(
        self,
        script: list[Step] | None = None,
        responder: Callable[[dict[str, Any]], Step] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.script: list[Step] = list(script or [])
        self.responder = responder
        self.latency = latency
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._hangs: list[threading.Event] = []

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output clean

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for ev in self._hangs:
            ev.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    # ------------------------------------------------------------------ serving
    def _next(self, body: dict[str, Any]) -> Step:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        if self.responder is not None:
            return self.responder(body)
        return Status(500, message="fake server: script exhausted")

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        with self._lock:
            self.seen.append(Seen(h.path, {k.lower(): v for k, v in h.headers.items()}, body))
        if not h.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(h, 404, {"error": {"message": f"no route {h.path}"}})
            return
        step = self._next(body)
        if self.latency:
            time.sleep(self.latency)
        if isinstance(step, Drop):
            # Close without a byte so the client sees a dropped connection.
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if isinstance(step, Hang):
            ev = threading.Event()
            self._hangs.append(ev)
            ev.wait(step.seconds)
            h.close_connection = True
            return
        if isinstance(step, Raw):
            h.send_response(200)
            h.send_header("Content-Type", step.content_type)
            h.send_header("Content-Length", str(len(step.body)))
            h.end_headers()
            h.wfile.write(step.body)
            return
        if isinstance(step, Status):
            self._send_json(
                h, step.code, {"error": {"message": step.message, "type": "scripted", "code": step.code}}, step.headers
            )
            return
        self._send_json(h, 200, _completion(body, step))

    @staticmethod
    def _send_json(
        h: BaseHTTPRequestHandler, code: int, obj: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
