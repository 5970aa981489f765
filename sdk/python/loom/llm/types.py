"""Values exchanged with an LLM provider."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    """A chat message (reference loom-py shape)."""

    role: str
    content: str
    name: str | None = None

    def to_dict(self) -> dict[str, str]:
        d = {"role": self.role, "content": self.content}
        if self.name:
            d["name"] = self.name
        return d


@dataclass
class ToolCallRequest:
    """A function call the model asked for. `arguments` is None when `raw_arguments` is not a
    JSON object; `error` then says why, so the caller can tell the model and carry on."""

    id: str
    name: str
    raw_arguments: str
    arguments: dict[str, Any] | None = None
    error: str | None = None

    @classmethod
    def parse(cls, id: str, name: str, raw_arguments: str) -> ToolCallRequest:
        raw = raw_arguments or ""
        if not raw.strip():
            return cls(id, name, raw, {})
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            return cls(id, name, raw, None, f"arguments are not valid JSON ({e.msg} at position {e.pos})")
        if not isinstance(value, dict):
            return cls(id, name, raw, None, f"arguments must be a JSON object, got {type(value).__name__}")
        return cls(id, name, raw, value)

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.raw_arguments or "{}"}}


class LLMResponse(str):
    """A chat completion. It *is* the reply text (a str), so code written for the reference,
    where chat() and generate() returned str, runs unchanged; the rest rides along as
    attributes: tool_calls, finish_reason, model, usage, reasoning, raw."""

    content: str
    tool_calls: list[ToolCallRequest]
    finish_reason: str | None
    model: str | None
    usage: dict[str, int]
    reasoning: str | None
    raw: dict[str, Any] | None

    def __new__(cls, content: str | None = "", *, tool_calls: list[ToolCallRequest] | None = None,
                finish_reason: str | None = None, model: str | None = None,
                usage: dict[str, int] | None = None, reasoning: str | None = None,
                raw: dict[str, Any] | None = None) -> LLMResponse:
        obj = super().__new__(cls, content or "")
        obj.content = content or ""
        obj.tool_calls = list(tool_calls or [])
        obj.finish_reason = finish_reason
        obj.model = model
        obj.usage = dict(usage or {})
        obj.reasoning = reasoning
        obj.raw = raw
        return obj

    def assistant_message(self) -> dict[str, Any]:
        """The assistant turn to append to the conversation before tool results."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        else:
            msg["content"] = self.content
        return msg


@dataclass
class StreamDelta:
    """One item of LLMProvider.stream(): a text fragment, or (last item) the whole response."""

    text: str = ""
    response: LLMResponse | None = None

    @property
    def done(self) -> bool:
        return self.response is not None


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamAssembler:
    """Folds chat.completion.chunk objects into one LLMResponse; tool calls arrive as deltas
    keyed by index whose `arguments` strings must be concatenated."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, _PendingCall] = {}
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.usage: dict[str, int] = {}

    def feed(self, chunk: dict[str, Any]) -> str:
        """Take one chunk; return its text fragment ('' if none)."""
        self.model = chunk.get("model") or self.model
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices") or []
        if not choices:
            return ""
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta") or {}
        for tc in delta.get("tool_calls") or []:
            pending = self.calls.setdefault(int(tc.get("index", len(self.calls))), _PendingCall())
            pending.id = tc.get("id") or pending.id
            fn = tc.get("function") or {}
            if fn.get("name"):
                # Most servers send the name once; some repeat it whole. Never double it.
                if not pending.name.endswith(fn["name"]):
                    pending.name += fn["name"]
            if fn.get("arguments"):
                pending.arguments.append(fn["arguments"])
        if delta.get("reasoning_content"):
            self.reasoning.append(delta["reasoning_content"])
        text = delta.get("content") or ""
        if text:
            self.text.append(text)
        return text

    def result(self) -> LLMResponse:
        calls = [ToolCallRequest.parse(p.id or f"call_{i}", p.name, "".join(p.arguments))
                 for i, p in sorted(self.calls.items())]
        return LLMResponse("".join(self.text), tool_calls=calls, finish_reason=self.finish_reason,
                           model=self.model, usage=self.usage,
                           reasoning="".join(self.reasoning) or None)


__all__ = ["Message", "ToolCallRequest", "LLMResponse", "StreamDelta", "StreamAssembler"]
