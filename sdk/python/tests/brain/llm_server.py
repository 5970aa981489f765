"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the brain tests.

It answers POST /v1/chat/completions from a script: a queue of replies (JSON completions,
SSE streams, error statuses with headers, slow answers) and records every request it got, so
tests check what the client really sent over the wire. Runs in a thread; nothing is mocked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None                      # JSON-serialisable, or str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    sse: list[Any] | None = None       # chunks sent as `data:` events, then [DONE]
    delay_s: float = 0.0                  # sleep before answering (timeout tests)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float                             # time.monotonic() on arrival


def completion(content: str | None = "", tool_calls: list[dict] | None = None,
               finish_reason: str | None = None) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return Reply(body={
        "id": "cmpl-test", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "message": message,
                     "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop")}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })


def tool_call(call_id: str, name: str, arguments: str | dict) -> dict:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def text_stream(*pieces: str) -> Reply:
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": p}}]} for p in pieces]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return Reply(sse=chunks)


class ScriptedLLM:
    """Start with `with ScriptedLLM() as llm:`; `llm.base_url` ends in /v1."""

    def __init__(self) -> None:
        self.replies: list[Reply | Callable[[Received], Reply]] = []
        self.requests: list[Received] = []
        #: Answers requests once the script is used up (routing by content, for agents whose
        #: call order is not fixed).
        self.fallback: Callable[[Received], Reply] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply | Callable[[Received], Reply]) -> ScriptedLLM:
        with self._lock:
            self.replies.extend(replies)
        return self

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            if not self.replies and self.fallback is not None:
                return self.fallback(received)
            if not self.replies:
                return Reply(status=500, body={"error": {"message": "test script exhausted"}})
            reply = self.replies.pop(0)
        return reply(received) if callable(reply) else reply

    def _handler_class(self) -> type:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                received = Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                    body, time.monotonic())
                reply = outer._next(received)
                if reply.delay_s and outer._stopping.wait(reply.delay_s):
                    return
                try:
                    if reply.sse is not None:
                        self._send_sse(reply)
                    else:
                        self._send_body(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def _send_body(self, reply: Reply) -> None:
                data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body or {})
                payload = data.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def _send_sse(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in reply.sse or []:
                    data = chunk if isinstance(chunk, str) else json.dumps(chunk)
                    self.wfile.write(f"data: {data}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler


def scripted_provider(server: ScriptedLLM, **settings: Any) -> Any:
    """An LLMProvider aimed at the scripted server, with short backoffs for the retry tests."""
    from loom.llm import LLMProvider

    settings.setdefault("backoff_s", 0.01)
    settings.setdefault("name", "scripted")
    return LLMProvider.for_url(None, server.base_url, "test-model", **settings)
