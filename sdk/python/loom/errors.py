"""Errors raised by the SDK. Every one names what went wrong and, where it can, what to do."""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

# What `except asyncio.TimeoutError` catches: TimeoutError itself since Python 3.11, a class of
# its own on 3.10. The SDK's timeouts are both, as the reference raised asyncio's.
_TIMEOUTS: tuple[type[Exception], ...] = (
    (TimeoutError,) if sys.version_info >= (3, 11) else (TimeoutError, asyncio.TimeoutError)
)


class LoomError(RuntimeError):
    """Base class of every error the SDK raises (a RuntimeError, which the reference SDK raised)."""


class RuntimeNotFound(LoomError):
    """No runtime address: not passed, not in the environment, no discovery file found."""


class AuthenticationError(LoomError):
    """The runtime refused the token (or none was sent)."""


class PermissionDenied(LoomError):
    """The runtime knows the credential but it may not do this: act as another agent, reach
    another agent's state or subscriptions, or use the workspace owner's controls."""


class NotConnected(LoomError):
    """The agent is not connected to the runtime (not started, stopped, or reconnecting too long)."""


class RequestTimeout(LoomError, *_TIMEOUTS):  # type: ignore[misc]
    """ctx.request() got no reply in time. Also a TimeoutError (and asyncio.TimeoutError), as the
    reference SDK raised."""


# ToolStatus names as they travel on the wire, without the TOOL_ prefix.
STATUS_NAMES = {0: "ok", 1: "error", 2: "timeout", 3: "not_found", 4: "invalid_arguments"}


class ToolError(LoomError):
    """A tool call that did not succeed.

    status  -- "error", "timeout", "not_found" or "invalid_arguments" (the wire ToolStatus)
    code    -- the finer reason: not_found, invalid_arguments, denied, timeout, failed, unavailable
    message -- the provider's explanation
    details -- extra string fields the provider attached
    """

    def __init__(
        self,
        message: str,
        *,
        status: str = "error",
        code: str = "failed",
        tool: str = "",
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"tool {tool!r} failed ({code}): {message}" if tool else message)
        self.status = status
        self.code = code
        self.message = message
        self.tool = tool
        self.details = dict(details or {})


class ToolNotFound(ToolError):
    pass


class ToolInvalidArguments(ToolError):
    pass


class ToolTimeout(ToolError, *_TIMEOUTS):  # type: ignore[misc]
    pass


class ToolDenied(ToolError):
    pass


def tool_error(
    status: str, code: str, message: str, tool: str = "", details: Mapping[str, str] | None = None
) -> ToolError:
    """The most specific ToolError subclass for a status/code pair."""
    kinds = {
        "not_found": ToolNotFound,
        "invalid_arguments": ToolInvalidArguments,
        "timeout": ToolTimeout,
        "denied": ToolDenied,
    }
    cls = kinds.get(code) or kinds.get(status) or ToolError
    return cls(message, status=status, code=code or status, tool=tool, details=details)
