"""LLMProvider: direct HTTP to OpenAI-compatible /chat/completions endpoints.

The brain calls the model itself (not through a runtime tool) so prompts and providers can
change without touching the runtime. One httpx.AsyncClient per provider and event loop keeps
connections alive between the calls of a reasoning loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from .. import tracing as _tracing
from .config import LLMConfig, preset_config, resolve_config
from .errors import (
    LLMConnectionError,
    LLMError,
    LLMResponseError,
    LLMStatusError,
    LLMTimeoutError,
    redact,
    status_error,
)
from .types import LLMResponse, Message, StreamAssembler, StreamDelta, ToolCallRequest

#: Spans of this module (the reference exposes one per module; a no-op without OpenTelemetry).
tracer = _tracing.get_tracer(__name__)

log = logging.getLogger("loom.llm")

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

_tracer: Tracer | None
try:  # Telemetry is optional: spans when opentelemetry is installed, nothing otherwise.
    from opentelemetry import trace as _trace

    _tracer = _trace.get_tracer("loom.llm")
except ImportError:  # pragma: no cover
    _tracer = None

MessageLike = Mapping[str, Any] | Message


def tool_spec(name: str, description: str, parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAI `tools` entry. `name` must match ^[A-Za-z0-9_-]{1,64}$ on most providers."""
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": dict(parameters) if parameters else {"type": "object", "properties": {}}}}


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _complete(data: str) -> bool:
    """Whether accumulated SSE data is already a whole event ("[DONE]" or a JSON value)."""
    if data.strip() == "[DONE]":
        return True
    try:
        json.loads(data)
        return True
    except ValueError:
        return False


class _PresetAttr:
    """Reference compatibility: LLMProvider.DEEPSEEK etc., read fresh from the environment."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, obj: Any, owner: Any) -> LLMConfig:
        return preset_config(self.name)


class LLMProvider:
    """Chat completions over HTTP with retries, timeouts, streaming and native tool calling."""

    DEEPSEEK = _PresetAttr("deepseek")
    OPENAI = _PresetAttr("openai")
    OLLAMA = _PresetAttr("ollama")
    LOCAL = _PresetAttr("local")

    def __init__(self, ctx: Any = None, config: LLMConfig | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.ctx = ctx
        self.config = config or preset_config("local")
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_name(cls, ctx: Any, provider_name: str) -> LLMProvider:
        """A built-in preset: deepseek, openai, ollama, local (vLLM)."""
        return cls(ctx, preset_config(provider_name))

    @classmethod
    def from_config(cls, ctx: Any, name: str | None = None, config: Any = None, *,
                    provider_name: str | None = None, project_config: Any = None) -> LLMProvider:
        """Provider `name` configured by `config`: the `[llm.<name>]` dict, the whole `[llm]`
        table, a loom.toml path (or workspace folder), a reference ProjectConfig, or None to
        read the workspace's loom.toml ($LOOM_WORKSPACE, else the cwd upwards). A name with no
        section falls back to the preset of that name (an unknown one is an LLMConfigError,
        also a ValueError).

        The reference's keywords work too: ``from_config(ctx, provider_name="deepseek",
        project_config=load_project_config())``."""
        if provider_name is not None:
            if name is not None and name != provider_name:
                raise TypeError(f"from_config: name {name!r} and provider_name {provider_name!r} disagree; give one")
            name = provider_name
        if project_config is not None:
            if config is not None and config is not project_config:
                raise TypeError("from_config: give config or project_config, not both")
            config = project_config
        if not name:
            raise TypeError("from_config() needs the provider's name (name or provider_name)")
        return cls(ctx, resolve_config(name, config))

    @classmethod
    def for_url(cls, ctx: Any, base_url: str, model: str, *, api_key: str | None = None,
                name: str = "custom", **settings: Any) -> LLMProvider:
        """Any OpenAI-compatible base URL (ending in /v1 or wherever /chat/completions lives)."""
        return cls(ctx, LLMConfig(base_url=base_url, model=model, api_key=api_key, name=name, **settings))

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def supports_tools(self) -> bool:
        return self.config.supports_tools

    def __repr__(self) -> str:
        return f"LLMProvider(name={self.name!r}, model={self.config.model!r}, base_url={self.config.base_url!r})"

    # -- public calls -----------------------------------------------------------------------

    async def generate(self, prompt: str, *, system: str | None = None,
                       temperature: float | None = None, max_tokens: int | None = None,
                       timeout_ms: int | None = None) -> LLMResponse:
        """One user prompt (and an optional system prompt) → the reply (an LLMResponse str)."""
        return await self.chat(self._prompt_messages(prompt, system), temperature=temperature,
                               max_tokens=max_tokens, timeout_ms=timeout_ms)

    async def chat(self, messages: Sequence[MessageLike], *, tools: Sequence[Mapping[str, Any]] | None = None,
                   tool_choice: Any = None, temperature: float | None = None,
                   max_tokens: int | None = None, timeout_ms: int | None = None,
                   **extra: Any) -> LLMResponse:
        """A chat completion. With `tools` (OpenAI format, see tool_spec) the reply may carry
        `tool_calls` instead of, or besides, text."""
        payload = self._payload(messages, tools, tool_choice, temperature, max_tokens, extra, stream=False)
        timeout_s = (timeout_ms or self.config.timeout_ms) / 1000.0
        with self._span("llm.chat", payload):
            body = await self._post_json(payload, timeout_s)
        return self._parse_completion(body)

    async def stream(self, messages: Sequence[MessageLike], *, tools: Sequence[Mapping[str, Any]] | None = None,
                     tool_choice: Any = None, temperature: float | None = None,
                     max_tokens: int | None = None, timeout_ms: int | None = None,
                     **extra: Any) -> AsyncIterator[StreamDelta]:
        """Stream a chat completion: StreamDelta(text=...) per fragment, then one last
        StreamDelta whose `response` is the assembled LLMResponse (tool calls included)."""
        payload = self._payload(messages, tools, tool_choice, temperature, max_tokens, extra, stream=True)
        timeout_s = (timeout_ms or self.config.timeout_ms) / 1000.0
        assembler = StreamAssembler()
        with self._span("llm.stream", payload):
            async for chunk in self._post_sse(payload, timeout_s):
                text = assembler.feed(chunk)
                if text:
                    yield StreamDelta(text=text)
        yield StreamDelta(response=assembler.result())

    async def generate_stream(self, prompt: str, *, system: str | None = None,
                              temperature: float | None = None, max_tokens: int | None = None,
                              timeout_ms: int | None = None) -> AsyncIterator[str]:
        """Reference-compatible: stream the reply text of one prompt."""
        async for delta in self.stream(self._prompt_messages(prompt, system), temperature=temperature,
                                       max_tokens=max_tokens, timeout_ms=timeout_ms):
            if delta.text:
                yield delta.text

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def __aenter__(self) -> LLMProvider:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # -- request building -------------------------------------------------------------------

    @staticmethod
    def _prompt_messages(prompt: str, system: str | None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        return messages

    def _payload(self, messages: Sequence[MessageLike], tools: Sequence[Mapping[str, Any]] | None,
                 tool_choice: Any, temperature: float | None, max_tokens: int | None,
                 extra: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
        msgs = [m.to_dict() if isinstance(m, Message) else dict(m) for m in messages]
        if not msgs:
            raise LLMError(self.name, "chat needs at least one message")
        payload: dict[str, Any] = {
            "model": self.config.model,
            "messages": msgs,
            "temperature": self.config.temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self.config.max_tokens,
        }
        if tools:
            payload["tools"] = [dict(t) for t in tools]
            if tool_choice is not None:
                payload["tool_choice"] = tool_choice
        if stream:
            payload["stream"] = True
        payload.update(self.config.extra_body)
        payload.update(extra)
        return payload

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   **self.config.extra_headers}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    @property
    def _url(self) -> str:
        return self.config.base_url.rstrip("/") + "/chat/completions"

    def _secrets(self) -> Iterable[str | None]:
        return [self.config.api_key, *self.config.extra_headers.values()]

    async def _client_for_loop(self) -> httpx.AsyncClient:
        # An AsyncClient is bound to the loop that first used it; a provider reused from
        # another loop (a new asyncio.run) gets a fresh client instead of a cryptic failure.
        # The client is entered as a context manager once (``async with httpx.AsyncClient()``,
        # the reference's usage) and kept for the connections it pools.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed is not False:
            client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
            self._client = await client.__aenter__()
            self._client_loop = loop
        return self._client

    def _span(self, name: str, payload: Mapping[str, Any]) -> Any:
        if _tracer is None:
            import contextlib
            return contextlib.nullcontext()
        return _tracer.start_as_current_span(name, attributes={
            "llm.provider": self.name, "llm.model": self.config.model,
            "llm.messages.count": len(payload.get("messages", [])),
            "llm.tools.count": len(payload.get("tools", [])),
        })

    # -- transport with retries -------------------------------------------------------------

    def _transport_error(self, e: Exception, timeout_s: float) -> LLMError:
        if isinstance(e, (httpx.TimeoutException, asyncio.TimeoutError)):
            return LLMTimeoutError(self.name, f"no answer from {self.config.base_url} within {timeout_s:g}s")
        detail = redact(str(e) or type(e).__name__, self._secrets())
        return LLMConnectionError(self.name, f"cannot reach {self.config.base_url}: {detail}")

    def _delay_for(self, err: LLMError, attempt: int) -> float | None:
        """Seconds to wait before retry `attempt` (1-based), or None to give up now."""
        if not err.retryable or attempt > self.config.max_retries:
            return None
        retry_after: float | None = getattr(err, "retry_after", None)
        if retry_after is not None:
            if retry_after > self.config.max_retry_wait_s:
                err.reason += (f" (Retry-After {retry_after:g}s exceeds the {self.config.max_retry_wait_s:g}s"
                               " this provider is allowed to wait)")
                err.args = (f"LLM provider '{self.name}': {err.reason}",)
                return None
            return retry_after
        base: float = min(self.config.max_backoff_s, self.config.backoff_s * (2 ** (attempt - 1)))
        return base * (0.5 + random.random() / 2)

    async def _retry_or_raise(self, err: LLMError, attempt: int) -> None:
        delay = self._delay_for(err, attempt + 1)
        if delay is None:
            if attempt > 0:
                err.reason += f" (after {attempt + 1} attempts)"
                err.args = (f"LLM provider '{self.name}': {err.reason}",)
            raise err
        log.warning("LLM provider '%s': %s; retry %d/%d in %.2fs", self.name, err.reason,
                    attempt + 1, self.config.max_retries, delay)
        await asyncio.sleep(delay)

    async def _post_json(self, payload: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
        client = await self._client_for_loop()
        for attempt in range(self.config.max_retries + 1):
            try:
                # wait_for, not asyncio.timeout (3.11+): the package supports Python 3.10.
                resp = await asyncio.wait_for(
                    client.post(self._url, json=payload, headers=self._headers(),
                                timeout=httpx.Timeout(timeout_s)),
                    timeout_s)
            except (httpx.TransportError, asyncio.TimeoutError) as e:
                await self._retry_or_raise(self._transport_error(e, timeout_s), attempt)
                continue
            if self._failed(resp):
                await self._retry_or_raise(self._status_error(resp, resp.text), attempt)
                continue
            try:
                body = resp.json()
            except ValueError:
                raise LLMResponseError(self.name, "response body is not JSON: "
                                       + redact(resp.text[:200], self._secrets())) from None
            if not isinstance(body, dict):
                raise LLMResponseError(self.name, "response body is not a JSON object")
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    def _status_error(self, resp: httpx.Response, body: str) -> LLMStatusError:
        return status_error(self.name, resp.status_code, body,
                            _parse_retry_after(resp.headers.get("retry-after")), self._secrets())

    def _failed(self, resp: httpx.Response) -> bool:
        """True for an HTTP error status (4xx/5xx); LLMResponseError for another non-2xx (a
        redirect, which is not followed); False for success."""
        try:
            resp.raise_for_status()
            return False
        except httpx.HTTPStatusError:
            if resp.status_code >= 400:
                return True
            raise LLMResponseError(self.name, f"unexpected HTTP {resp.status_code} from {self.config.base_url} "
                                              "(redirects are not followed; check api_base)") from None

    async def _post_sse(self, payload: Mapping[str, Any], timeout_s: float) -> AsyncIterator[dict[str, Any]]:
        """Open the stream (retrying only until the first byte is accepted), then yield each
        SSE `data:` event parsed as JSON until `[DONE]` (an event that is not JSON is skipped
        with a warning, as the reference does)."""
        client = await self._client_for_loop()
        headers = {**self._headers(), "Accept": "text/event-stream"}
        opened: Any = None
        resp: Any = None
        for attempt in range(self.config.max_retries + 1):
            opened = client.stream("POST", self._url, json=payload, headers=headers, timeout=httpx.Timeout(timeout_s))
            try:
                resp = await opened.__aenter__()
            except httpx.TransportError as e:
                await self._retry_or_raise(self._transport_error(e, timeout_s), attempt)
                continue
            try:
                failed = self._failed(resp)
            except BaseException:
                await opened.__aexit__(None, None, None)
                raise
            if failed:
                try:
                    body = (await resp.aread()).decode("utf-8", "replace")
                except httpx.TransportError:
                    body = ""
                finally:
                    await opened.__aexit__(None, None, None)
                await self._retry_or_raise(self._status_error(resp, body), attempt)
                continue
            break
        assert opened is not None and resp is not None
        try:
            async for data in self._sse_events(resp, timeout_s):
                if data.strip() == "[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    log.warning("LLM provider '%s': skipped a stream event that is not JSON: %s", self.name,
                                redact(data[:200], self._secrets()))
                    continue
                if isinstance(chunk, dict) and chunk.get("error"):
                    err = chunk["error"]
                    msg = err.get("message") if isinstance(err, dict) else str(err)
                    raise LLMResponseError(self.name, "stream reported an error: "
                                           + redact(str(msg)[:300], self._secrets()))
                if isinstance(chunk, dict):
                    yield chunk
        finally:
            await opened.__aexit__(None, None, None)

    async def _sse_events(self, resp: httpx.Response, timeout_s: float) -> AsyncIterator[str]:
        """Server-sent events: `data:` lines accumulate until a blank line ends the event."""
        data: list[str] = []
        try:
            async for line in resp.aiter_lines():
                if line == "":
                    if data:
                        yield "\n".join(data)
                        data = []
                    continue
                if line.startswith(":"):
                    continue  # comment / keep-alive
                field, _, value = line.partition(":")
                if field == "data":
                    if data and _complete("\n".join(data)):
                        # Servers that omit the blank line between events (one event per line).
                        yield "\n".join(data)
                        data = []
                    data.append(value[1:] if value.startswith(" ") else value)
        except (httpx.TransportError, asyncio.TimeoutError) as e:
            raise self._transport_error(e, timeout_s) from None
        if data:
            yield "\n".join(data)

    # -- response parsing -------------------------------------------------------------------

    def _parse_completion(self, body: Mapping[str, Any]) -> LLMResponse:
        if body.get("error"):
            err = body["error"]
            msg = err.get("message") if isinstance(err, dict) else str(err)
            raise LLMResponseError(self.name, "server reported an error: " + redact(str(msg)[:300], self._secrets()))
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMResponseError(self.name, "response has no choices")
        message = choices[0].get("message") or {}
        calls = []
        for i, tc in enumerate(message.get("tool_calls") or []):
            fn = tc.get("function") or {}
            args = fn.get("arguments")
            raw = args if isinstance(args, str) else json.dumps(args if args is not None else {})
            calls.append(ToolCallRequest.parse(tc.get("id") or f"call_{i}", fn.get("name") or "", raw))
        return LLMResponse(message.get("content") or "", tool_calls=calls,
                           finish_reason=choices[0].get("finish_reason"), model=body.get("model"),
                           usage=body.get("usage") or {}, reasoning=message.get("reasoning_content"),
                           raw=dict(body))


__all__ = ["LLMProvider", "tool_spec"]
