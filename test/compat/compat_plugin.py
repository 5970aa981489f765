"""pytest plugin of the compat suite, loaded into the reference's own test run with
``-p compat_plugin`` (test/compat on PYTHONPATH). The reference's files are never edited; this is
where the harness says how it reads them:

1. NEEDS_OUTSIDE: tests that need an LLM or search API key or the internet are skipped with the
   reason, whatever the environment holds (run.py also removes API keys from the tests' environment).
   Nothing else is skipped here.
2. A test function that returns False has failed by its own verdict. Several reference tests were
   written as scripts (their ``main()`` counts ``return False`` as a failure) and plain pytest would
   pass them whatever they found; here a ``False`` fails the test, with the problems it printed (its ``[!]``/``[✗]`` lines).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import re
import sys

import pytest

NEEDS_OUTSIDE: dict[str, str] = {
    "tests/integration/test_tool_call_chain.py::TestMCPToolChain::test_mcp_brave_search":
        "needs a Brave Search API key and the internet (npx fetches the Brave MCP server)",
    "tests/integration/test_mcp_loading.py::test_mcp_brave_search":
        "needs a Brave Search API key and the internet (npx fetches the Brave MCP server)",
    "tests/e2e/test_embedded.py::test_download_from_github":
        "needs the internet (downloads a GitHub release of the Rust runtime)",
}


# test_native_tool_web_search runs: run.py points web:search at its stand-in, with a stand-in
# BRAVE_API_KEY, so it needs neither a key nor the internet.


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = NEEDS_OUTSIDE.get(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"compat: {reason}"))
            continue
        _fail_on_false(item)


class _Tee(io.TextIOBase):
    """Writes through to the stream pytest captures and keeps a copy for the verdict."""

    def __init__(self, inner):
        self.inner, self.copy = inner, io.StringIO()

    def write(self, s):
        self.copy.write(s)
        return self.inner.write(s)

    def flush(self):
        self.inner.flush()


def _verdict(result, printed: str) -> None:
    if result is not False:
        return
    said = [ln.strip() for ln in printed.splitlines() if re.match(r"\s*\[(!|✗)\]", ln)]
    why = "; ".join(said[-3:]) or "no reason printed"
    pytest.fail(f"returned False (its own verdict): {why}", pytrace=False)


def _fail_on_false(item) -> None:
    fn = getattr(item, "obj", None)
    if fn is None or not callable(fn):
        return
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapped(*args, **kwargs):
            tee = _Tee(sys.stdout)
            with contextlib.redirect_stdout(tee):
                result = await fn(*args, **kwargs)
            _verdict(result, tee.copy.getvalue())
    elif inspect.isfunction(fn) or inspect.ismethod(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            tee = _Tee(sys.stdout)
            with contextlib.redirect_stdout(tee):
                result = fn(*args, **kwargs)
            _verdict(result, tee.copy.getvalue())
    else:
        return
    item.obj = wrapped
