"""loom.context components on their own (no runtime, no model)."""

from __future__ import annotations

import os
import time

import pytest

from loom import ToolInfo
from loom.context import (
    CompactionConfig,
    ContextBuilder,
    ContextRanker,
    DataOffloader,
    MemoryItem,
    MemoryTier,
    OffloadConfig,
    StepCompactor,
    StepReducer,
    TieredMemory,
    ToolDescriptor,
    ToolRegistry,
    create_default_registry,
    get_default_library,
)
from loom.context.ranking import keyword_overlap, keywords
from loom.context.window import ContextWindow, TokenWindowManager


def test_reducers_keep_what_identifies_the_call_and_drop_the_content():
    r = StepReducer()
    read = r.reduce("fs:read", {"path": "src/app.py"}, "a\nb\nc", True)
    write = r.reduce("fs:write", {"path": "out/n.txt", "content": "x" * 2048}, {"bytes_written": 2048}, True)
    shell = r.reduce("system:shell", {"command": "git", "args": ["status"]}, "M a.py", True)
    other = r.reduce("calc:add", {"numbers": [1, 2, 3], "label": "y" * 300}, "6", True)
    failed = r.reduce("fs:read", {"path": "gone.txt"}, None, False, error="not found")
    assert [s.id for s in (read, write, shell, other, failed)] == [f"step_00{i}" for i in range(1, 6)]
    assert read.observation == "Read app.py (3 lines, 5B)" and read.minimal_args == {"path": "src/app.py"}
    assert write.observation == "Wrote n.txt (1 lines, 2.0KB)" and "content" not in write.minimal_args
    assert shell.observation == "Ran `git` \u2192 M a.py"
    assert other.minimal_args == {"numbers": "[3 items]", "label": "y" * 100 + "..."}
    assert (failed.success, failed.error, failed.observation) == (
        False,
        "not found",
        "Failed to read gone.txt: not found",
    )


def test_compactor_groups_runs_and_drops_the_oldest_lines():
    r = StepReducer()
    steps = ([r.reduce("fs:read", {"path": f"{i}.txt"}, "x", True) for i in range(4)]
             + [r.reduce("calc:add", {}, "2", i != 1) for i in range(3)]
             + [r.reduce("web:fetch", {"url": "https://example.org/a"}, "<html>", True) for _ in range(3)])
    history = StepCompactor(CompactionConfig(recent_window=2, max_compact_steps=10)).compact(steps)
    assert [c.summary for c in history.compact_steps] == [
        "[step_001..step_004] 4 file operations", "[step_005..step_007] 3x calc:add (1 failed)",
        "Fetched example.org (6B)"]
    assert [s.id for s in history.recent_steps] == ["step_009", "step_010"]
    tight = StepCompactor(CompactionConfig(recent_window=2, max_compact_steps=1)).compact(steps)
    assert (len(tight.compact_steps), tight.dropped_count) == (1, 2)
    assert "(2 earlier steps omitted)" in tight.format_for_prompt()


def test_offloader_writes_once_per_content_and_bounds_long_line_previews(tmp_path):
    off = DataOffloader(tmp_path, OffloadConfig(size_threshold=100, preview_chars=60))
    one_line = "z" * 500
    first = off.offload(one_line, "file_read", "a/b.txt")
    again = off.offload(one_line, "shell_output", "other")
    assert first.offloaded and again.file_path == first.file_path  # found by its hash, not rewritten
    assert len(list((tmp_path / ".loom" / "cache").rglob("*.*"))) == 1
    assert off.retrieve(first.file_path) == one_line
    assert "characters omitted" in first.content and len(first.content) < 120
    assert "saved to " + first.file_path in first.to_observation("fs:read")
    small = off.offload("tiny", "file_read", "t")
    assert (small.offloaded, small.content) == (False, "tiny")
    old = tmp_path / first.file_path
    os.utime(old, (time.time() - 3 * 3600, time.time() - 3 * 3600))
    assert off.cleanup(max_age_hours=1) == 1 and off.retrieve(first.file_path) is None


def test_tool_descriptors_from_runtime_listings_and_back_to_json_schema():
    info = ToolInfo("fs:write", "Write a file", {
        "type": "object", "required": ["path", "content"],
        "properties": {"append": {"type": "boolean", "default": False},
                       "path": {"type": "string", "description": "where"}, "content": {"type": "string"}}},
        "native")
    registry = ToolRegistry()
    d = registry.register_tool_info(info)
    assert d.get_signature() == "fs:write(path, content, append?)" and d.category == "filesystem"
    assert registry.get_by_category("filesystem") == [d] and "fs:write" in registry
    schema = d.to_json_schema()
    assert schema["required"] == ["path", "content"] and schema["properties"]["append"] == {
        "type": "boolean",
        "default": False,
    }
    assert ToolDescriptor.from_json_schema("x:y", "", schema).get_signature() == "x:y(path, content, append?)"
    defaults = create_default_registry()
    assert {"fs:read", "fs:write", "fs:list", "system:shell", "fs:read_file", "web:search"} <= {
        t.name for t in defaults.get_all()
    }
    text = defaults.format_for_prompt(["fs:read", "unknown:tool"], group_by_category=True)
    assert "FILESYSTEM:" in text and "GENERAL:" in text and "unknown:tool() - Execute unknown:tool" in text


def test_ranking_window_builder_and_few_shot():
    assert keywords("What is the budget?") == {"budget"}
    assert keyword_overlap("Budgets: 1200 EUR", "the budgets?") == 1.0
    ranked = ContextRanker().rank(["cats purr", "dogs bark loudly", "dogs bark"], "dogs bark")
    assert [r.content for r in ranked][:2] == ["dogs bark loudly", "dogs bark"]  # stable on ties
    assert ContextRanker().select_top(ranked, max_tokens=4) == ["dogs bark loudly"]
    w = TokenWindowManager(max_tokens=100)
    assert (
        w.fit_content("abcdefghij", 1) == "abcd..." and w.fit_content("abcdefghij", 1, truncate_end=False) == "...ghij"
    )
    msgs = [{"role": "user", "content": "x" * 40}, {"role": "assistant", "content": "y" * 8}]
    assert w.fit_messages(msgs, 5) == msgs[1:]
    window = (ContextBuilder(100).set_system("s" * 8).add_memory_items([MemoryItem("user", "hello")])
              .add_retrieved_docs(["doc"]).build())
    assert isinstance(window, ContextWindow) and window.current_tokens == 2 + 1 + len("Context document 1:\ndoc") // 4
    assert [m["role"] for m in window.to_messages()] == ["system", "user", "system"]
    lib = get_default_library()
    assert lib is get_default_library() and lib.get_relevant("run the python test suite", 1)[0].category == "shell"


@pytest.mark.asyncio
async def test_tiered_memory_in_process_keeps_tiers_apart_and_recalls_by_relevance():
    mem = TieredMemory()  # no ctx: nothing is persisted
    assert mem.persist is False and await mem.load() == 0
    await mem.add("system", "The staging server is called orion", MemoryTier.LONG_TERM)
    await mem.add("system", "Earlier task: deploy to orion\nOutcome: done", "short_term")
    for i in range(60):
        await mem.add("tool", f"step {i}")
    assert len(mem.items(MemoryTier.WORKING)) == 50
    found = mem.recall("which server is staging?")
    assert [i.content for i in found] == ["The staging server is called orion"]
    assert [i.tier for i in mem.recall("orion")] == [
        MemoryTier.SHORT_TERM,
        MemoryTier.LONG_TERM,
    ]  # newest first on ties
    mem.clear(MemoryTier.WORKING)
    assert len(mem) == 2
    with pytest.raises(ValueError):
        TieredMemory(persist=True)
