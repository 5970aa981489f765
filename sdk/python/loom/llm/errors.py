"""Errors raised by LLMProvider.

Every message names the provider (its configured name, model and base URL) and says why the
call failed. API keys never appear: any text that reaches a message (a response body, a
transport error) passes through `redact` first. LLMError is a LoomError, so a RuntimeError: the
reference loom-py raised RuntimeError and agents written for it catch that.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import LoomError

_MAX_BODY_CHARS = 500


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each non-empty secret (and its 'Bearer' form) in text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
    return text


class LLMError(LoomError):
    """Base of all LLM failures. `provider` is the provider's name; `reason` the cause."""

    retryable = False

    def __init__(self, provider: str, reason: str, *, status: int | None = None):
        self.provider = provider
        self.reason = reason
        self.status = status
        super().__init__(f"LLM provider '{provider}': {reason}")


class LLMConfigError(LLMError, ValueError):
    """The provider's configuration is missing or invalid (unknown preset, unset ${VAR}, ...).
    Also a ValueError, which the reference SDK raised for an unknown provider name."""


class LLMConnectionError(LLMError):
    """The server could not be reached (refused, DNS, reset)."""

    retryable = True


class LLMTimeoutError(LLMError):
    """No complete answer within the configured timeout."""

    retryable = True


class LLMResponseError(LLMError):
    """The server answered 2xx but the body is not a chat completion."""


class LLMStatusError(LLMError):
    """The server answered with an HTTP error status. `body` is an excerpt, keys redacted."""

    def __init__(self, provider: str, reason: str, *, status: int, body: str = "",
                 retry_after: float | None = None):
        self.body = body
        self.retry_after = retry_after
        super().__init__(provider, reason, status=status)


class LLMAuthError(LLMStatusError):
    """401/403: the API key is missing, wrong or lacks access."""


class LLMBadRequestError(LLMStatusError):
    """400/404/422: the request was refused as invalid (unknown model, unsupported field...)."""


class LLMRateLimitError(LLMStatusError):
    """429: rate limited; retried with backoff, honouring Retry-After, up to the bounds."""

    retryable = True


class LLMServerError(LLMStatusError):
    """5xx: the provider failed; retried with backoff."""

    retryable = True


def status_error(provider: str, status: int, body: str, retry_after: float | None,
                 secrets: Iterable[str | None]) -> LLMStatusError:
    """Build the LLMStatusError subclass for an HTTP status, with a redacted body excerpt."""
    excerpt = redact(body.strip(), secrets)
    if len(excerpt) > _MAX_BODY_CHARS:
        excerpt = excerpt[:_MAX_BODY_CHARS] + "..."
    cls: type[LLMStatusError]
    if status in (401, 403):
        cls, why = LLMAuthError, "authentication failed (check api_key)"
    elif status == 429:
        cls, why = LLMRateLimitError, "rate limited"
    elif status >= 500:
        cls, why = LLMServerError, "server error"
    elif status in (400, 404, 405, 413, 422):
        cls, why = LLMBadRequestError, "request rejected"
    else:
        cls, why = LLMStatusError, "unexpected status"
    reason = f"HTTP {status} {why}" + (f": {excerpt}" if excerpt else "")
    return cls(provider, reason, status=status, body=excerpt, retry_after=retry_after)


__all__ = [
    "LLMError",
    "LLMConfigError",
    "LLMConnectionError",
    "LLMTimeoutError",
    "LLMResponseError",
    "LLMStatusError",
    "LLMAuthError",
    "LLMBadRequestError",
    "LLMRateLimitError",
    "LLMServerError",
    "redact",
]
