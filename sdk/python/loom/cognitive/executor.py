"""Running a tool call and keeping its result small: ToolExecutor.

execute_tool(call) asks the permission callback first for guarded tools, runs the call through
the runtime (ctx.tool: its sandbox applies, nothing is run around it), and hands the output to
process(): an output over the offload thresholds is written to the workspace cache and replaced
by a preview, and the call is reduced to a loom.context Step (Observation.reduced_step).
CognitiveAgent uses the same process() for the calls its loop makes.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from .. import tracing as _tracing
from .config import DEFAULT_GUARDED_TOOLS
from .tools import PermissionCallback
from .types import Observation, ToolCall

#: Spans of this module (the reference exposes one per module; a no-op without OpenTelemetry).
tracer = _tracing.get_tracer(__name__)

if TYPE_CHECKING:
    from ..context import DataOffloader, Step, StepReducer

log = logging.getLogger("loom.cognitive")

#: Tools put to the permission callback before they run (they write, delete or execute).
TOOLS_REQUIRING_APPROVAL = DEFAULT_GUARDED_TOOLS

_CATEGORY_HINTS = (("file_read", ("read", "file")), ("shell_output", ("shell", "run")),
                   ("search", ("search", "grep")), ("web", ("web", "http")))


def output_text(value: Any) -> str:
    """A tool's output as text: str as is, bytes decoded, JSON text pretty-printed, anything
    else as JSON."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False, default=str)


class ToolExecutor:
    def __init__(self, ctx: Any, step_reducer: StepReducer, data_offloader: DataOffloader | None,
                 permission_callback: PermissionCallback | None = None, *,
                 guarded: frozenset[str] = TOOLS_REQUIRING_APPROVAL, timeout_ms: int = 30000):
        """`data_offloader` None: outputs are never offloaded (only reduced)."""
        self.ctx = ctx
        self.step_reducer = step_reducer
        self.data_offloader = data_offloader
        self.permission_callback = permission_callback
        self.guarded = frozenset(guarded)
        self.timeout_ms = timeout_ms
        self._approved_tools: set[str] = set()

    async def execute_tool(self, tool_call: ToolCall) -> Observation:
        """Run one call; failures (refused, tool errors) come back as unsuccessful Observations."""
        start = time.monotonic()
        if self._requires_approval(tool_call):
            if not await self._request_permission(tool_call, self._get_approval_reason(tool_call)):
                obs = Observation(tool_call.name, False, "", "Action denied by user", _ms(start))
                return self.process(tool_call, obs)
            self._approved_tools.add(tool_call.name)
        try:
            value = await self.ctx.tool(tool_call.name, tool_call.arguments, timeout_ms=self.timeout_ms)
        except Exception as e:
            code, message = getattr(e, "code", None), getattr(e, "message", None)
            error = f"{code}: {message}" if code and message else str(e) or type(e).__name__
            return self.process(tool_call, Observation(tool_call.name, False, "", error, _ms(start)))
        obs = Observation(tool_call.name, True, output_text(value), None, _ms(start), value=value)
        return self.process(tool_call, obs)

    def process(self, tool_call: ToolCall, observation: Observation) -> Observation:
        """Offload a long successful output (the observation then holds the preview) and
        attach the reduced Step. Returns the same observation."""
        step: Step
        if not observation.success:
            step = self.step_reducer.reduce(tool_name=tool_call.name, args=tool_call.arguments or {},
                                            result=None, success=False, error=observation.error)
            observation.reduced_step = step
            return observation
        ref = None
        value = observation.value
        # A file-like result ({"content": "...", ...}, as fs:read returns): offload the text
        # itself (real lines, a readable cache file) and keep the envelope around its preview.
        inner = value.get("content") if isinstance(value, dict) else None
        if self.data_offloader is not None:
            try:
                offloaded = self.data_offloader.offload(inner if isinstance(inner, str) else observation.output,
                                                        self._get_offload_category(tool_call.name),
                                                        self._get_offload_identifier(tool_call))
            except OSError as e:  # an unwritable cache must not fail the call: keep it inline
                log.warning("offloading the output of %s failed: %s", tool_call.name, e)
            else:
                if offloaded.offloaded:
                    ref = offloaded.file_path
                    observation.output = (json.dumps({**value, "content": offloaded.content}, ensure_ascii=False,
                                                     default=str) if isinstance(inner, str) else offloaded.content)
        # Measure the file, not its JSON envelope (nor the preview).
        result: Any = inner if isinstance(inner, str) else observation.output
        step = self.step_reducer.reduce(tool_name=tool_call.name, args=tool_call.arguments or {},
                                        result=result, success=True)
        step.outcome_ref = ref
        observation.reduced_step = step
        return observation

    # -- permission -------------------------------------------------------------------------

    def _requires_approval(self, tool_call: ToolCall) -> bool:
        return (self.permission_callback is not None and tool_call.name in self.guarded
                and tool_call.name not in self._approved_tools)

    def _get_approval_reason(self, tool_call: ToolCall) -> str:
        args = tool_call.arguments or {}
        if "path" in args and "content" in args:
            content = str(args.get("content", ""))
            preview = content if len(content) <= 100 else content[:100] + "..."
            return f"Write to file '{args['path']}' (content: {preview})"
        if tool_call.name.endswith("delete"):
            return f"Delete file or directory '{args.get('path', 'unknown')}'"
        if "command" in args:
            return f"Run '{args['command']}'"
        return f"Destructive operation: {tool_call.name}"

    async def _request_permission(self, tool_call: ToolCall, reason: str) -> bool:
        if self.permission_callback is None:
            return False
        try:
            verdict = self.permission_callback(tool_call.name, tool_call.arguments, reason)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            return bool(verdict)
        except Exception as e:  # a broken callback fails closed
            log.warning("permission callback failed for %s (%s); refusing", tool_call.name, e)
            return False

    # -- offload naming ---------------------------------------------------------------------

    def _get_offload_category(self, tool_name: str) -> str:
        lowered = tool_name.lower()
        for category, hints in _CATEGORY_HINTS:
            if any(h in lowered for h in hints):
                return category
        return "tool_output"

    def _get_offload_identifier(self, tool_call: ToolCall) -> str:
        args = tool_call.arguments or {}
        for key in ("path", "file_path", "file", "url", "command"):
            value = args.get(key)
            if isinstance(value, str) and value:
                return value
        return f"{tool_call.name}_{int(time.time())}"


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


__all__ = ["ToolExecutor", "TOOLS_REQUIRING_APPROVAL", "output_text"]
