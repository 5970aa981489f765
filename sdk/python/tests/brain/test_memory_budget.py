"""Working memory under a token budget (in process; the store side is in the e2e tests)."""

from __future__ import annotations

import pytest
from llm_server import Reply, completion

from loom.llm import LLMProvider
from loom.memory import Memory, MemoryStoreError, WorkingMemory, estimate_tokens, fit_messages, message_tokens
from loom.memory.budget import ELIDED


def test_token_estimate_is_chars_over_four_plus_framing():
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert message_tokens({"role": "user", "content": "x" * 40}) == 14


def test_add_and_get_recent():
    m = Memory()
    for i in range(5):
        m.add("user" if i % 2 == 0 else "assistant", f"turn {i}", {"n": i})
    recent = m.get_recent(2)
    assert [i.content for i in recent] == ["turn 3", "turn 4"]
    assert recent[1]["role"] == "user" and recent[1].metadata == {"n": "4"}
    assert m.get_recent(0) == [] and len(m.get_recent()) == 5


def test_budget_drops_oldest_first():
    m = Memory(max_tokens=60)  # each turn of 80 chars costs 24 tokens
    for i in range(5):
        m.add("user", f"{i}" * 80)
    assert [i.content[0] for i in m.get_recent()] == ["3", "4"]
    assert m.token_count() <= 60


def test_to_messages_fits_a_smaller_window_newest_kept():
    m = Memory(max_tokens=10_000)
    for i in range(6):
        m.add("user", f"{i}" * 80)
    assert [x["content"][0] for x in m.to_messages(max_tokens=50)] == ["4", "5"]


def test_working_memory_is_the_reference_scratchpad():
    w = WorkingMemory(max_items=3)
    for i in range(5):
        w.add("user", str(i))
    assert [i["content"] for i in w.get_context()] == ["2", "3", "4"] and len(w) == 3
    assert w.get_recent(1)[0].to_message() == {"role": "user", "content": "4"}


async def test_compact_summarises_oldest_turns_with_the_llm(llm_server):
    llm_server.script(completion("Ada likes tea; the report is due Friday."))
    llm = LLMProvider.for_url(None, llm_server.base_url, "m", name="summariser")
    m = Memory(max_tokens=100, summarizer=llm)
    for i in range(6):
        m.add("user" if i % 2 == 0 else "assistant", f"message {i} " + "x" * 60)
    assert m.token_count() > 100  # with a summarizer the budget is restored by compact()
    assert await m.compact() is True
    items = m.get_recent()
    assert items[0].is_summary and items[0].content.endswith("Ada likes tea; the report is due Friday.")
    assert m.token_count() <= 100 and items[-1].content.startswith("message 5")
    prompt = llm_server.requests[0].body["messages"][-1]["content"]
    assert "message 0" in prompt and "message 5" not in prompt
    assert m.to_messages()[0]["content"].startswith("Summary of the earlier conversation")
    await llm.aclose()


async def test_compact_drops_when_the_summarizer_fails(llm_server):
    llm_server.script(Reply(status=400, body="nope"))
    llm = LLMProvider.for_url(None, llm_server.base_url, "m", name="summariser")
    m = Memory(max_tokens=60, summarizer=llm)
    for i in range(4):
        m.add("user", f"{i}" * 80)
    assert await m.compact() is True
    assert not any(i.is_summary for i in m.get_recent()) and m.token_count() <= 60
    await llm.aclose()


async def test_long_term_memory_needs_a_ctx():
    with pytest.raises(MemoryStoreError, match="needs a ctx"):
        await Memory().remember("x")
    with pytest.raises(MemoryStoreError, match="persist=True needs a ctx"):
        Memory(persist=True)


def test_fit_messages_elides_old_observations_then_drops_old_turns():
    head = [{"role": "system", "content": "s"}, {"role": "user", "content": "goal"}]
    body = [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function",
                                                               "function": {"name": "fs_read", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "1", "content": "y" * 400},
        {"role": "user", "content": "Observation: " + "z" * 400},
        {"role": "assistant", "content": "last"},
    ]
    fitted = fit_messages(head + body, 100, keep_head=2)
    assert fitted[:2] == head and fitted[-1] == {"role": "assistant", "content": "last"}
    assert fitted[3]["content"] == ELIDED and fitted[4]["content"] == "Observation: " + ELIDED
    tight = fit_messages(head + body, 30, keep_head=2)
    assert tight[:2] == head and tight[-1]["content"] == "last"
    assert all(m.get("role") != "tool" for m in tight)  # no orphaned tool replies
