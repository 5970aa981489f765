"""LLMProvider against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest
from llm_server import Reply, completion, scripted_provider, text_stream, tool_call

from loom.llm import (
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMError,
    LLMProvider,
    LLMRateLimitError,
    LLMResponse,
    LLMResponseError,
    LLMServerError,
    LLMTimeoutError,
    tool_spec,
)

KEY = "sk-test-SECRET-0123456789abcdef"


def provider(server, **settings) -> LLMProvider:
    return scripted_provider(server, api_key=KEY, **settings)


async def test_generate_sends_system_and_prompt_and_returns_text(llm_server):
    llm_server.script(completion("Paris"))
    async with provider(llm_server) as llm:
        reply = await llm.generate("Capital of France?", system="Be brief.", temperature=0.1)
    assert reply == "Paris" and isinstance(reply, str) and isinstance(reply, LLMResponse)
    assert reply.finish_reason == "stop" and reply.usage["total_tokens"] == 15
    (req,) = llm_server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.body["model"] == "test-model" and req.body["temperature"] == 0.1
    assert req.body["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Capital of France?"}]
    assert "tools" not in req.body and "stream" not in req.body


async def test_chat_native_tool_calls_are_parsed(llm_server):
    llm_server.script(completion(None, [tool_call("c1", "fs_read", {"path": "a.txt"}),
                                        tool_call("c2", "fs_write", '{"path": "b.txt", "conte')]))
    tools = [tool_spec("fs_read", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})]
    async with provider(llm_server) as llm:
        reply = await llm.chat([{"role": "user", "content": "read a.txt"}], tools=tools)
    assert reply.content == ""
    ok, bad = reply.tool_calls
    assert (ok.id, ok.name, ok.arguments, ok.error) == ("c1", "fs_read", {"path": "a.txt"}, None)
    assert bad.arguments is None and "not valid JSON" in bad.error
    assert llm_server.requests[0].body["tools"] == tools
    assert reply.assistant_message()["tool_calls"][0]["function"]["name"] == "fs_read"


async def test_429_then_success_waits_retry_after(llm_server):
    llm_server.script(Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "1"}),
                      completion("done"))
    async with provider(llm_server) as llm:
        assert await llm.generate("hi") == "done"
    first, second = llm_server.requests
    # Lower bound only: the client must not retry before the server said it may.
    assert second.at - first.at >= 0.95


async def test_5xx_is_retried_with_backoff_then_succeeds(llm_server):
    llm_server.script(Reply(status=503, body="busy"), Reply(status=502, body="bad gateway"), completion("ok"))
    async with provider(llm_server, max_retries=3) as llm:
        assert await llm.generate("hi") == "ok"
    assert len(llm_server.requests) == 3


async def test_5xx_gives_up_after_max_retries_naming_provider(llm_server):
    llm_server.script(*[Reply(status=500, body={"error": {"message": "boom"}}) for _ in range(5)])
    async with provider(llm_server, max_retries=2) as llm:
        with pytest.raises(LLMServerError) as info:
            await llm.generate("hi")
    assert len(llm_server.requests) == 3
    msg = str(info.value)
    assert "'scripted'" in msg and "HTTP 500" in msg and "boom" in msg and "after 3 attempts" in msg
    assert info.value.status == 500 and isinstance(info.value, RuntimeError)


async def test_retry_after_beyond_bound_fails_at_once(llm_server):
    llm_server.script(Reply(status=429, body="", headers={"Retry-After": "3600"}), completion("never"))
    async with provider(llm_server, max_retry_wait_s=5) as llm:
        with pytest.raises(LLMRateLimitError) as info:
            await llm.generate("hi")
    assert len(llm_server.requests) == 1
    assert info.value.retry_after == 3600 and "exceeds" in str(info.value)


async def test_400_is_not_retried(llm_server):
    llm_server.script(Reply(status=400, body={"error": {"message": "model not found"}}), completion("x"))
    async with provider(llm_server) as llm:
        with pytest.raises(LLMBadRequestError, match="model not found"):
            await llm.generate("hi")
    assert len(llm_server.requests) == 1


async def test_timeout_raises_and_is_retried_within_bound(llm_server):
    llm_server.script(Reply(delay_s=30, body={}), Reply(delay_s=30, body={}))
    async with provider(llm_server, timeout_ms=300, max_retries=1) as llm:
        with pytest.raises(LLMTimeoutError) as info:
            await llm.generate("hi")
    assert "within 0.3s" in str(info.value) and "'scripted'" in str(info.value)
    assert len(llm_server.requests) == 2


async def test_connection_refused_names_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = LLMProvider.for_url(None, f"http://127.0.0.1:{port}/v1", "m", name="gone", max_retries=0)
    with pytest.raises(LLMConnectionError, match=f"cannot reach http://127.0.0.1:{port}/v1"):
        await llm.generate("hi")
    await llm.aclose()


async def test_non_json_body_is_a_response_error(llm_server):
    llm_server.script(Reply(body="<html>proxy error</html>"), completion("x"))
    async with provider(llm_server) as llm:
        with pytest.raises(LLMResponseError, match="not JSON"):
            await llm.generate("hi")


async def test_stream_yields_text_as_it_comes(llm_server):
    llm_server.script(text_stream("Hel", "lo ", "world"))
    async with provider(llm_server) as llm:
        items = [d async for d in llm.stream([{"role": "user", "content": "hi"}])]
    assert [d.text for d in items if not d.done] == ["Hel", "lo ", "world"]
    assert items[-1].done and items[-1].response == "Hello world"
    assert items[-1].response.finish_reason == "stop"
    assert llm_server.requests[0].body["stream"] is True


async def test_stream_assembles_tool_call_deltas(llm_server):
    def delta(**d):
        return {"model": "test-model", "choices": [{"index": 0, "delta": d}]}
    llm_server.script(Reply(sse=[
        delta(role="assistant", content=None, tool_calls=[
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "fs_write", "arguments": ""}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '{"path": "n'}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": 'otes.txt", "content": "hi"}'}}]),
        delta(tool_calls=[{"index": 1, "id": "call_b", "function": {"name": "fs_read", "arguments": "{}"}}]),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]))
    async with provider(llm_server) as llm:
        items = [d async for d in llm.stream([{"role": "user", "content": "x"}], tools=[tool_spec("fs_write", "w")])]
    response = items[-1].response
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_a", "fs_write", {"path": "notes.txt", "content": "hi"}), ("call_b", "fs_read", {})]
    assert response.finish_reason == "tool_calls"


async def test_generate_stream_is_reference_compatible(llm_server):
    llm_server.script(text_stream("a", "b"))
    async with provider(llm_server) as llm:
        assert [c async for c in llm.generate_stream("x", system="s")] == ["a", "b"]


async def test_stream_error_status_is_retried_before_first_byte(llm_server):
    llm_server.script(Reply(status=503, body="later"), text_stream("ok"))
    async with provider(llm_server) as llm:
        items = [d async for d in llm.stream([{"role": "user", "content": "x"}])]
    assert items[-1].response == "ok" and len(llm_server.requests) == 2


async def test_api_key_never_in_errors_or_logs(llm_server, caplog):
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}"}}
    llm_server.script(Reply(status=500, body=echo), Reply(status=401, body=echo))
    caplog.set_level(logging.DEBUG)
    llm = provider(llm_server, max_retries=1)
    with pytest.raises(LLMAuthError) as info:
        await llm.generate("hi")
    await llm.aclose()
    texts = [str(info.value), repr(info.value), info.value.body,
             "".join(traceback.format_exception(info.value)), caplog.text, repr(llm), repr(llm.config)]
    assert all(KEY not in t for t in texts)
    assert "[REDACTED]" in str(info.value) and "HTTP 401" in str(info.value)
    assert "retry 1/1" in caplog.text  # the 500 was logged (redacted) before the retry


async def test_provider_is_usable_from_a_second_event_loop(llm_server):
    # A provider kept in a module global is reused across asyncio.run calls.
    import asyncio
    import threading
    llm_server.script(completion("one"), completion("two"))
    llm = provider(llm_server)
    assert await llm.generate("a") == "one"
    out: list = []
    t = threading.Thread(target=lambda: out.append(asyncio.run(llm.generate("b"))))
    t.start()
    t.join(30)
    assert out == ["two"]


async def test_failures_reach_reference_style_except_runtime_error(llm_server):
    # Agents written for the reference loom-py catch RuntimeError around LLM calls.
    llm_server.script(Reply(status=404, body={"error": {"message": "no such model"}}))
    caught = None
    async with provider(llm_server) as llm:
        try:
            await llm.generate("hi")
        except RuntimeError as e:
            caught = e
    assert isinstance(caught, LLMBadRequestError) and isinstance(caught, LLMError)
    assert (caught.provider, caught.status) == ("scripted", 404)
    assert str(caught) == "LLM provider 'scripted': HTTP 404 request rejected: " + caught.body
    assert "no such model" in caught.body
