"""Worked examples (Thought / Action / Observation) to show the model how tools are used."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FewShotExample:
    goal: str
    thought: str
    action: str          # the tool call as the model should write it (JSON)
    observation: str
    category: str | None = None

    def format_for_prompt(self) -> str:
        return "\n".join((f"Thought: {self.thought}", f"Action: {self.action}",
                          f"Observation: {self.observation}"))


@dataclass
class FewShotLibrary:
    examples: list[FewShotExample] = field(default_factory=list)

    def add(self, example: FewShotExample) -> None:
        self.examples.append(example)

    def get_by_category(self, category: str) -> list[FewShotExample]:
        return [e for e in self.examples if e.category == category]

    def get_relevant(self, goal: str, max_examples: int = 3) -> list[FewShotExample]:
        """The examples sharing the most words with `goal` (substring match on the example's
        goal and thought), best first; examples sharing none are left out."""
        words = goal.lower().split()
        ranked = []
        for position, example in enumerate(self.examples):
            haystack = f"{example.goal} {example.thought}".lower()
            hits = sum(1 for w in words if w in haystack)
            if hits:
                ranked.append((-hits, position, example))
        ranked.sort(key=lambda t: (t[0], t[1]))
        return [e for _, _, e in ranked[:max_examples]]

    def format_examples(self, examples: list[FewShotExample]) -> str:
        if not examples:
            return ""
        out = ["Here are some examples of how to use tools effectively:\n"]
        for n, example in enumerate(examples, 1):
            out += [f"Example {n} (Goal: {example.goal}):", example.format_for_prompt(), ""]
        return "\n".join(out)


def _ex(category: str, goal: str, thought: str, action: str, observation: str) -> FewShotExample:
    return FewShotExample(goal, thought, action, observation, category)


def create_default_library() -> FewShotLibrary:
    """Examples written for Loom's own tools (fs:*, system:shell, web:*)."""
    return FewShotLibrary(
        [
            _ex(
                "filesystem",
                "Summarise the project's README",
                "The README is a single file; reading it is enough before I summarise.",
                '{"tool": "fs:read", "args": {"path": "README.md"}}',
                "Read README.md (120 lines, 4.1KB)",
            ),
            _ex(
                "filesystem",
                "Find which Python files are in the src folder",
                "Listing the folder recursively shows every file without reading any of them.",
                '{"tool": "fs:list", "args": {"path": "src", "recursive": true}}',
                '{"path": "src", "entries": [{"name": "main.py"}, {"name": "util.py"}], "truncated": false}',
            ),
            _ex(
                "filesystem",
                "Save the summary to notes/summary.md",
                "I have the summary; writing it creates the file, and its folder if needed.",
                '{"tool": "fs:write", "args": {"path": "notes/summary.md", "content": "# Summary\\n...", '
                '"create_dirs": true}}',
                "Wrote summary.md (12 lines, 640B)",
            ),
            _ex(
                "shell",
                "Check whether the git working tree has uncommitted changes",
                "git status --short lists changed files one per line; no output means clean.",
                '{"tool": "system:shell", "args": {"command": "git", "args": ["status", "--short"]}}',
                "Ran `git` \u2192 M src/main.py",
            ),
            _ex(
                "shell",
                "Run the Python test suite",
                "Running pytest quietly gives the pass/fail counts without pages of output.",
                '{"tool": "system:shell", "args": {"command": "pytest", "args": ["-q"]}}',
                "Ran `pytest` \u2192 42 lines output (saved to .loom/cache/shell_output/pytest_1f2e.log)",
            ),
            _ex(
                "research",
                "Look up how Python asyncio task groups work",
                "A web search finds the official documentation page first.",
                '{"tool": "web:search", "args": {"query": "python asyncio TaskGroup documentation"}}',
                "Search 'python asyncio TaskGroup documentation' \u2192 5 matches",
            ),
            _ex(
                "research",
                "Read the release notes of a library",
                "Fetching the page gives me the notes; a large page is saved and previewed.",
                '{"tool": "web:fetch", "args": {"url": "https://example.org/changelog"}}',
                "Fetched example.org (38.2KB)",
            ),
            _ex(
                "debugging",
                "Find where a Python ImportError comes from",
                "Searching the code for the module name shows which files import it.",
                '{"tool": "fs:search", "args": {"query": "import yaml", "path": "."}}',
                "Search 'import yaml' \u2192 3 matches",
            ),
        ]
    )


_default_library: FewShotLibrary | None = None


def get_default_library() -> FewShotLibrary:
    """One shared default library per process."""
    global _default_library
    if _default_library is None:
        _default_library = create_default_library()
    return _default_library


__all__ = ["FewShotExample", "FewShotLibrary", "create_default_library", "get_default_library"]
