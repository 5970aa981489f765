"""Tool descriptors: a tool's parameters and examples, rendered for a system prompt.

Besides hand-written descriptors, `ToolDescriptor.from_json_schema` builds one from the JSON
Schema the runtime lists for a tool (`ctx.list_tools()`), and `ToolRegistry.register_tool_info`
registers such a listing directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


@dataclass
class ToolParameter:
    name: str
    type: str              # JSON Schema type: string, number, integer, boolean, object, array
    description: str
    required: bool = False
    default: Any | None = None
    examples: list[Any] = field(default_factory=list)

    def to_string(self) -> str:
        """e.g. "path: string (required) - File path - e.g. a.txt, b.txt" (two examples at most)."""
        head = f"{self.name}: {self.type}" + (" (required)" if self.required else "")
        pieces = [head]
        if self.description:
            pieces.append("- " + self.description)
        if self.default is not None:
            pieces.append(f"- default: {self.default}")
        if self.examples:
            pieces.append("- e.g. " + ", ".join(map(str, self.examples[:2])))
        return " ".join(pieces)


@dataclass
class ToolDescriptor:
    name: str
    description: str
    parameters: list[ToolParameter] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    category: str | None = None

    def get_signature(self) -> str:
        """name(a, b?) — optional parameters end with "?"."""
        names = [p.name if p.required else p.name + "?" for p in self.parameters]
        return f"{self.name}({', '.join(names)})"

    def to_compact_string(self) -> str:
        return f"{self.get_signature()} - {self.description}"

    def to_detailed_string(self) -> str:
        out = [f"Tool: {self.name}", f"Description: {self.description}"]
        if self.parameters:
            out.append("Parameters:")
            out += [f"  \u2022 {p.to_string()}" for p in self.parameters]
        if self.examples:
            out.append("Examples:")
            out += [f"  {e}" for e in self.examples[:2]]
        return "\n".join(out)

    def to_json_schema(self) -> dict[str, Any]:
        """The parameters as a JSON Schema object (what function-calling APIs expect)."""
        props: dict[str, Any] = {}
        for p in self.parameters:
            spec: dict[str, Any] = {"type": p.type} if p.type in _JSON_TYPES else {}
            if p.description:
                spec["description"] = p.description
            if p.default is not None:
                spec["default"] = p.default
            if p.examples:
                spec["examples"] = list(p.examples)
            props[p.name] = spec
        schema: dict[str, Any] = {"type": "object", "properties": props}
        required = [p.name for p in self.parameters if p.required]
        if required:
            schema["required"] = required
        return schema

    @staticmethod
    def from_simple_name(name: str, description: str = "") -> ToolDescriptor:
        return ToolDescriptor(name=name, description=description or f"Execute {name}")

    @staticmethod
    def from_json_schema(name: str, description: str = "", schema: Any = None,
                         category: str | None = None) -> ToolDescriptor:
        """A descriptor from a JSON Schema object (dict or JSON text): one ToolParameter per
        property, `required` from the schema's list, defaults and examples when given."""
        if isinstance(schema, (str, bytes)):
            try:
                schema = json.loads(schema) if schema else None
            except ValueError:
                schema = None
        props = schema.get("properties") if isinstance(schema, Mapping) else None
        required = set(schema.get("required") or []) if isinstance(schema, Mapping) else set()
        params = []
        for pname, spec in (props or {}).items():
            spec = spec if isinstance(spec, Mapping) else {}
            kind = spec.get("type", "any")
            if isinstance(kind, list):
                kind = "|".join(str(k) for k in kind)
            params.append(ToolParameter(pname, str(kind), str(spec.get("description", "")),
                                        required=pname in required, default=spec.get("default"),
                                        examples=list(spec.get("examples") or [])))
        params.sort(key=lambda p: not p.required)  # required first, order otherwise kept
        return ToolDescriptor(name=name, description=description or f"Execute {name}",
                              parameters=params, category=category or _category_of(name))


def _category_of(name: str) -> str | None:
    namespace = name.split(":", 1)[0] if ":" in name else ""
    return {"fs": "filesystem", "system": "shell", "shell": "shell", "web": "web", "http": "web",
            "editor": "editor", "ui": "ui"}.get(namespace)


class ToolRegistry:
    """Descriptors by name (and by category), formatted for prompts."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolDescriptor] = {}
        self._categories: dict[str, list[str]] = {}

    def register(self, descriptor: ToolDescriptor) -> None:
        previous = self._tools.get(descriptor.name)
        if previous is not None and previous.category:
            members = self._categories.get(previous.category, [])
            if descriptor.name in members:
                members.remove(descriptor.name)
        self._tools[descriptor.name] = descriptor
        if descriptor.category:
            self._categories.setdefault(descriptor.category, []).append(descriptor.name)

    def register_simple(self, name: str, description: str = "") -> None:
        self.register(ToolDescriptor.from_simple_name(name, description))

    def register_tool_info(self, info: Any) -> ToolDescriptor:
        """Register a runtime listing (loom.ToolInfo or a dict with name, description and
        parameters / parameters_schema); returns the descriptor."""
        def get(key: str) -> Any:
            return info.get(key) if isinstance(info, Mapping) else getattr(info, key, None)
        schema = get("parameters")
        if schema is None:
            schema = get("parameters_schema")
        descriptor = ToolDescriptor.from_json_schema(str(get("name")), str(get("description") or ""), schema)
        self.register(descriptor)
        return descriptor

    def get(self, name: str) -> ToolDescriptor | None:
        return self._tools.get(name)

    def get_all(self) -> list[ToolDescriptor]:
        return list(self._tools.values())

    def get_by_category(self, category: str) -> list[ToolDescriptor]:
        return [self._tools[n] for n in self._categories.get(category, []) if n in self._tools]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def format_for_prompt(self, tool_names: list[str] | None = None, detailed: bool = False,
                          group_by_category: bool = False) -> str:
        """The tools (all, or `tool_names` — unknown names get a minimal descriptor) as
        bullet lines, grouped under CATEGORY: headings, or as detailed blocks."""
        if tool_names is None:
            chosen = self.get_all()
        else:
            chosen = [self._tools.get(n) or ToolDescriptor.from_simple_name(n) for n in tool_names]
        if not chosen:
            return "No tools available."
        if detailed:
            return "\n\n".join(d.to_detailed_string() for d in chosen)
        if not group_by_category:
            return "\n".join(f"\u2022 {d.to_compact_string()}" for d in chosen)
        groups: dict[str, list[ToolDescriptor]] = {}
        for d in chosen:
            groups.setdefault(d.category or "general", []).append(d)
        out = []
        for category in sorted(groups):
            out.append(category.upper() + ":")
            out += [f"  \u2022 {d.to_compact_string()}" for d in groups[category]]
        return "\n".join(out)


def _p(name: str, kind: str, description: str, required: bool = False, default: Any = None,
       examples: list[Any] | None = None) -> ToolParameter:
    return ToolParameter(name, kind, description, required, default, list(examples or []))


def create_default_registry() -> ToolRegistry:
    """Descriptors of the runtime's built-in tools (fs:read, fs:write, fs:list, fs:delete,
    system:shell), of the names the reference SDK uses for the same jobs (fs:read_file,
    fs:write_file, fs:search, shell:run) and of the web tools (web:fetch, web:search)."""
    registry = ToolRegistry()
    path = _p("path", "string", "Path inside the workspace", True, examples=["src/main.py"])
    for d in (
        ToolDescriptor("fs:read", "Read a file inside the workspace",
                       [path, _p("max_bytes", "integer", "Read at most this many bytes")],
                       ['{"tool": "fs:read", "args": {"path": "README.md"}}'], "filesystem"),
        ToolDescriptor("fs:write", "Write (or append to) a file inside the workspace",
                       [path, _p("content", "string", "The text to write", True),
                        _p("append", "boolean", "Append instead of replacing", default=False),
                        _p("create_dirs", "boolean", "Create missing folders", default=False)],
                       ['{"tool": "fs:write", "args": {"path": "out.txt", "content": "hello"}}'], "filesystem"),
        ToolDescriptor("fs:list", "List a directory inside the workspace",
                       [_p("path", "string", "Directory", default="."),
                        _p("recursive", "boolean", "Include sub-folders", default=False)],
                       ['{"tool": "fs:list", "args": {"path": "src"}}'], "filesystem"),
        ToolDescriptor("fs:delete", "Delete a file or directory inside the workspace",
                       [path, _p("recursive", "boolean", "Delete a non-empty directory", default=False)],
                       [], "filesystem"),
        ToolDescriptor("fs:read_file", "Read the contents of a file",
                       [path, _p("start_line", "number", "First line to read", default=1),
                        _p("end_line", "number", "Last line to read (-1: to the end)", default=-1)],
                       ['{"tool": "fs:read_file", "args": {"path": "config.json"}}'], "filesystem"),
        ToolDescriptor("fs:write_file", "Write content to a file",
                       [path, _p("content", "string", "The text to write", True),
                        _p("append", "boolean", "Append instead of replacing", default=False)],
                       ['{"tool": "fs:write_file", "args": {"path": "out.txt", "content": "hello"}}'],
                       "filesystem"),
        ToolDescriptor("fs:search", "Search files for a text pattern",
                       [_p("query", "string", "Pattern to look for", True),
                        _p("path", "string", "Where to search", default="."),
                        _p("include", "string", "Glob of files to include", examples=["*.py", "**/*.ts"])],
                       ['{"tool": "fs:search", "args": {"query": "TODO"}}'], "filesystem"),
        ToolDescriptor("system:shell", "Run one allowlisted program (no shell) inside the workspace",
                       [_p("command", "string", "Program name", True, examples=["git", "pytest"]),
                        _p("args", "array", "Its arguments", default=[]),
                        _p("cwd", "string", "Working directory inside the workspace"),
                        _p("timeout_ms", "integer", "Time limit in milliseconds")],
                       ['{"tool": "system:shell", "args": {"command": "git", "args": ["status"]}}'], "shell"),
        ToolDescriptor("shell:run", "Execute a shell command",
                       [_p("command", "string", "Command line", True, examples=["ls -la"]),
                        _p("cwd", "string", "Working directory", default="."),
                        _p("timeout", "number", "Time limit in seconds", default=30)],
                       ['{"tool": "shell:run", "args": {"command": "git status"}}'], "shell"),
        ToolDescriptor("web:fetch", "Fetch the content of a URL",
                       [_p("url", "string", "Address to fetch", True, examples=["https://example.org"]),
                        _p("method", "string", "HTTP method", default="GET"),
                        _p("headers", "object", "Request headers")],
                       ['{"tool": "web:fetch", "args": {"url": "https://example.org"}}'], "web"),
        ToolDescriptor("web:search", "Search the web",
                       [_p("query", "string", "What to search for", True),
                        _p("max_results", "number", "How many results", default=5)],
                       ['{"tool": "web:search", "args": {"query": "python asyncio"}}'], "web"),
    ):
        registry.register(d)
    return registry


__all__ = ["ToolDescriptor", "ToolParameter", "ToolRegistry", "create_default_registry"]
