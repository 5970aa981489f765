"""`${VAR}` expansion in `[llm.<name>]` values, with the syntax of loom.toml's agent `env`
(runtime/config/load.ts expandEnv), so one loom.toml follows one rule:

- `${NAME}`: NAME's value; an unset NAME is an error naming it (a set but empty NAME is "").
- `${NAME:-fallback}`: the fallback when NAME is unset or empty (taken literally).
- `$$`: a literal `$`. Any other `$` is left as it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from .errors import LLMConfigError

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str, *, provider: str, key: str,
               environ: Mapping[str, str] | None = None) -> str:
    """`value` with its references expanded from `environ` (default os.environ). The error for
    an unset variable names the variable and the key, never a value."""
    env = os.environ if environ is None else environ
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        var, fallback = m.group(1), m.group(2)
        got = env.get(var)
        if got is not None and (got != "" or fallback is None):
            return got
        if fallback is not None:
            return fallback
        missing.append(var)
        return ""

    out = _ENV_REF.sub(sub, value)
    if missing:
        var = missing[0]
        raise LLMConfigError(provider, f"{key} refers to ${{{var}}}, which is not set in the environment "
                                       f"(write ${{{var}:-default}} for a fallback)")
    return out


__all__ = ["expand_env"]
