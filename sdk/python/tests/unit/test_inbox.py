"""The reader's rule for a full event queue (loom.agent.base._Inbox), step by step."""
import asyncio

from loom import Event
from loom.agent.base import _Inbox


def make(soft=2, hard=4):
    state = {"awaiting": False}
    stats = {"held_deliveries": 0, "read_pauses": 0}
    inbox = _Inbox("unit", soft, hard, lambda: state["awaiting"], stats)
    return inbox, state, stats


def ev(n: int) -> Event:
    return Event.new(type="n", payload=str(n))


async def paused_reader(inbox: _Inbox) -> asyncio.Task:
    """Starts wait_for_room and returns once it is waiting."""
    task = asyncio.create_task(inbox.wait_for_room())
    while not inbox.paused:
        assert not task.done(), "wait_for_room returned instead of waiting"
        await asyncio.sleep(0)
    return task


async def test_reads_on_below_the_soft_cap():
    inbox, _, stats = make()
    inbox.put(ev(0))
    assert await inbox.wait_for_room() is False
    assert stats == {"held_deliveries": 0, "read_pauses": 0}


async def test_full_queue_waits_until_the_handler_takes_one():
    inbox, _, stats = make()
    inbox.put(ev(0))
    inbox.put(ev(1))
    reader = await paused_reader(inbox)
    assert (await inbox.get()).text == "0"
    assert await reader is True and not inbox.paused
    assert stats["read_pauses"] == 1


async def test_awaited_reply_lets_the_reader_past_the_soft_cap_up_to_the_hard_cap(caplog):
    inbox, state, stats = make(soft=2, hard=4)
    inbox.put(ev(0))
    inbox.put(ev(1))
    reader = await paused_reader(inbox)
    state["awaiting"] = True
    inbox.wake()  # what Agent._awaiting_stream does when a request starts
    assert await reader is True
    with caplog.at_level("WARNING", logger="loom"):
        inbox.put(ev(2))
        assert await inbox.wait_for_room() is False
        inbox.put(ev(3))
    assert stats["held_deliveries"] == 2
    assert sum("reading on" in r.getMessage() for r in caplog.records) == 1, caplog.text
    # At the hard cap the reader stops even for an awaited reply (bounded memory).
    with caplog.at_level("WARNING", logger="loom"):
        reader = await paused_reader(inbox)
    assert any("stopped reading" in r.getMessage() for r in caplog.records), caplog.text
    await inbox.get()
    assert await reader is True
    assert [(await inbox.get()).text for _ in range(3)] == ["1", "2", "3"]


async def test_reply_no_longer_awaited_restores_backpressure():
    inbox, state, _ = make(soft=1, hard=10)
    state["awaiting"] = True
    inbox.put(ev(0))
    inbox.put(ev(1))
    assert await inbox.wait_for_room() is False
    state["awaiting"] = False
    reader = await paused_reader(inbox)
    await inbox.get()
    for _ in range(5):  # let the woken reader re-check: one still waits, the soft cap
        await asyncio.sleep(0)
    assert inbox.paused and not reader.done()
    await inbox.get()
    assert await reader is True
