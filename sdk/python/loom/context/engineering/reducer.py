"""Reducers: turn one tool call and its raw output into a `Step`.

What survives reduction is what the model needs later: which file, which command, whether it
worked, how big the result was. Raw content does not survive: it can be read again (or found
in the offloaded copy). Failures keep their error message.

`StepReducer` picks a reducer by tool name (exact, then without the `namespace:` prefix) and
falls back to `DefaultReducer`; `register()` adds or replaces one.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from typing import Any

from ._format import count_lines, format_size
from .step import Step, generate_step_id


def _path_arg(args: dict[str, Any]) -> str:
    return str(args.get("path", args.get("file_path", "unknown")))


def _text(value: Any) -> str:
    return str(value) if value else ""


class ToolReducer(ABC):
    """One reduction rule. Subclasses implement reduce()."""

    @abstractmethod
    def reduce(self, step_id: str, tool_name: str, args: dict[str, Any], result: Any,
               success: bool, error: str | None = None) -> Step:
        """The Step standing for this call (`result` is the raw output)."""

    @staticmethod
    def _failed(step_id: str, tool_name: str, minimal_args: dict[str, Any], observation: str,
                error: str | None, metadata: dict[str, Any] | None = None) -> Step:
        return Step(id=step_id, tool_name=tool_name, minimal_args=minimal_args,
                    observation=observation, success=False, error=error, metadata=metadata or {})


class _FileReducer(ToolReducer):
    """The file rules: the path is what identifies the call; subclasses say what happened."""

    verb = ""  # "read", "write", "edit": used in the failure line

    def reduce(self, step_id: str, tool_name: str, args: dict[str, Any], result: Any,
               success: bool, error: str | None = None) -> Step:
        path = _path_arg(args)
        name = os.path.basename(path)
        if not success:
            return self._failed(step_id, tool_name, {"path": path}, f"Failed to {self.verb} {name}: {error}", error)
        observation, metadata = self._describe(name, args, result)
        return Step(id=step_id, tool_name=tool_name, minimal_args={"path": path}, observation=observation,
                    success=True, metadata=metadata)

    def _describe(self, name: str, args: dict[str, Any], result: Any) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    @staticmethod
    def _measured(done: str, name: str, text: str) -> tuple[str, dict[str, Any]]:
        lines, size = count_lines(text), len(text)
        return f"{done} {name} ({lines} lines, {format_size(size)})", {"lines": lines, "size": size}


class FileReadReducer(_FileReducer):
    """fs:read / read_file: keeps the path and the size of what was read."""

    verb = "read"

    def _describe(self, name: str, args: dict[str, Any], result: Any) -> tuple[str, dict[str, Any]]:
        return self._measured("Read", name, _text(result))


class FileWriteReducer(_FileReducer):
    """fs:write / write_file: keeps the path and the size written, never the content."""

    verb = "write"

    def _describe(self, name: str, args: dict[str, Any], result: Any) -> tuple[str, dict[str, Any]]:
        return self._measured("Wrote", name, args.get("content", "") or "")


class FileEditReducer(_FileReducer):
    """fs:edit / edit_file: keeps the path and the change in line count."""

    verb = "edit"

    def _describe(self, name: str, args: dict[str, Any], result: Any) -> tuple[str, dict[str, Any]]:
        before = count_lines(args.get("old_content", args.get("search", "")) or "")
        after = count_lines(args.get("new_content", args.get("replace", "")) or "")
        delta = after - before
        change = f"+{delta} lines" if delta > 0 else (f"{delta} lines" if delta < 0 else "modified")
        return f"Edited {name} ({change})", {"old_lines": before, "new_lines": after}


class ShellReducer(ToolReducer):
    """Commands: the command (cut to 80 characters) and a short output, or its line count."""

    MAX_OUTPUT_PREVIEW = 100
    _MAX_COMMAND = 80

    def reduce(self, step_id: str, tool_name: str, args: dict[str, Any], result: Any,
               success: bool, error: str | None = None) -> Step:
        command = args.get("command", args.get("cmd", "")) or ""
        shown = command if len(command) <= self._MAX_COMMAND else command[: self._MAX_COMMAND] + "..."
        if not success:
            code = args.get("exit_code", 1)
            return self._failed(step_id, tool_name, {"command": shown},
                                f"Command failed (exit {code}): {shown}", error, {"exit_code": code})
        output = _text(result)
        lines = count_lines(output)
        if lines > 10:
            tail = f"{lines} lines output"
        elif output:
            tail = output[: self.MAX_OUTPUT_PREVIEW] + ("..." if len(output) > self.MAX_OUTPUT_PREVIEW else "")
        else:
            tail = "(no output)"
        return Step(id=step_id, tool_name=tool_name, minimal_args={"command": shown},
                    observation=f"Ran `{shown}` \u2192 {tail}", success=True,
                    metadata={"lines": lines, "exit_code": 0})


class SearchReducer(ToolReducer):
    """Searches: the query, where, and how many matches (list items or output lines)."""

    def reduce(self, step_id: str, tool_name: str, args: dict[str, Any], result: Any,
               success: bool, error: str | None = None) -> Step:
        query = args.get("query", args.get("pattern", ""))
        where = args.get("path", args.get("directory", "."))
        minimal = {"query": query, "path": where}
        if not success:
            return self._failed(step_id, tool_name, minimal, f"Search failed: {error}", error)
        if isinstance(result, list):
            matches = len(result)
        elif isinstance(result, str):
            matches = count_lines(result)
        else:
            matches = 0
        return Step(id=step_id, tool_name=tool_name, minimal_args=minimal,
                    observation=f"Search '{query}' \u2192 {matches} matches", success=True,
                    metadata={"matches": matches})


class WebFetchReducer(ToolReducer):
    """Fetches: the URL, its host and the size of the body."""

    def reduce(self, step_id: str, tool_name: str, args: dict[str, Any], result: Any,
               success: bool, error: str | None = None) -> Step:
        url = args.get("url", "") or ""
        host = _domain(url)
        if not success:
            return self._failed(step_id, tool_name, {"url": url}, f"Failed to fetch {host}: {error}", error)
        size = len(_text(result))
        return Step(id=step_id, tool_name=tool_name, minimal_args={"url": url},
                    observation=f"Fetched {host} ({format_size(size)})", success=True,
                    metadata={"size": size, "domain": host})


class DefaultReducer(ToolReducer):
    """Any other tool: its arguments cut down, and the start of its output."""

    MAX_RESULT_PREVIEW = 200

    def reduce(self, step_id: str, tool_name: str, args: dict[str, Any], result: Any,
               success: bool, error: str | None = None) -> Step:
        minimal = _minimize_args(args)
        if not success:
            return self._failed(step_id, tool_name, minimal, f"{tool_name} failed: {error}", error)
        text = _text(result)
        if len(text) > self.MAX_RESULT_PREVIEW:
            text = text[: self.MAX_RESULT_PREVIEW] + "..."
        observation = f"{tool_name} \u2192 {text}" if text else f"{tool_name} completed"
        return Step(id=step_id, tool_name=tool_name, minimal_args=minimal, observation=observation, success=True)


_BUILTIN_RULES: tuple[tuple[type[ToolReducer], tuple[str, ...]], ...] = (
    (FileReadReducer, ("fs:read_file", "fs:read", "read_file")),
    (FileWriteReducer, ("fs:write_file", "fs:write", "write_file")),
    (FileEditReducer, ("fs:edit_file", "fs:edit", "edit_file")),
    (ShellReducer, ("shell:run", "shell:exec", "system:shell", "run_command", "execute")),
    (SearchReducer, ("fs:search", "fs:grep", "search", "grep")),
    (WebFetchReducer, ("web:fetch", "web:get", "http:get", "fetch_url")),
)


class StepReducer:
    """Dispatches a tool call to its reducer and numbers the steps (step_001, step_002...)."""

    def __init__(self) -> None:
        self._step_counter = 0
        self._default: ToolReducer = DefaultReducer()
        self._reducers: dict[str, ToolReducer] = {}
        for kind, names in _BUILTIN_RULES:
            rule = kind()
            for name in names:
                self._reducers[name] = rule

    def register(self, tool_name: str, reducer: ToolReducer) -> None:
        """Use `reducer` for `tool_name` (a full name, or the part after `namespace:`)."""
        self._reducers[tool_name] = reducer

    def reduce(self, tool_name: str, args: dict[str, Any], result: Any, success: bool,
               error: str | None = None, step_id: str | None = None) -> Step:
        """Reduce one call; without `step_id` the next number of this reducer is used."""
        if step_id is None:
            self._step_counter += 1
            step_id = generate_step_id(self._step_counter)
        rule = self._get_reducer(tool_name)
        return rule.reduce(step_id=step_id, tool_name=tool_name, args=args or {}, result=result,
                           success=success, error=error)

    def _get_reducer(self, tool_name: str) -> ToolReducer:
        rule = self._reducers.get(tool_name)
        if rule is None and ":" in tool_name:
            rule = self._reducers.get(tool_name.rsplit(":", 1)[1])
        return rule or self._default

    def reset_counter(self) -> None:
        """Start numbering at step_001 again (a new session)."""
        self._step_counter = 0


def _domain(url: str) -> str:
    found = re.search(r"https?://([^/]+)", url)
    if found:
        return found.group(1)
    return url[:50]


def _minimize_args(args: dict[str, Any], max_value_len: int = 100) -> dict[str, Any]:
    """Arguments with long strings cut and lists/dicts replaced by their size."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str) and len(value) > max_value_len:
            out[key] = value[:max_value_len] + "..."
        elif isinstance(value, list):
            out[key] = f"[{len(value)} items]"
        elif isinstance(value, dict):
            out[key] = f"{{{len(value)} keys}}"
        else:
            out[key] = value
    return out


__all__ = ["StepReducer", "ToolReducer", "FileReadReducer", "FileWriteReducer", "FileEditReducer",
           "ShellReducer", "SearchReducer", "WebFetchReducer", "DefaultReducer"]
