"""Soak traffic: publishes numbered events on soak.batch (its subscriber is batched: nothing may
be lost) and soak.rt (realtime: drops are allowed and counted), at a steady rate, and calls the
sink's tool and a built-in tool. Rates come from the environment; `soak_pub:published` reports
what it sent, `soak_pub:stop` stops it so that the test can check the sink got everything."""
import asyncio
import logging
import os
import time

from loom import Agent, tool
from loom.errors import LoomError

BATCH_RATE = int(os.environ.get("SOAK_BATCH_RATE", "2000"))
RT_RATE = int(os.environ.get("SOAK_RT_RATE", "1000"))
TOOL_RATE = int(os.environ.get("SOAK_TOOL_RATE", "20"))
state = {"batch": 0, "rt": 0, "tool_calls": 0, "tool_errors": 0, "last_tool_error": "", "running": True}


@tool("soak_pub:published", description="What this agent has published and called so far.", kind="read")
def published() -> dict:
    return dict(state)


@tool("soak_pub:stop", description="Stops publishing; returns the final counts.", kind="read")
def stop() -> dict:
    state["running"] = False
    return dict(state)


agent = Agent(tools=[published, stop])


async def paced(rate: int, step) -> None:
    """Calls step() `rate` times a second, in slices of 10 ms, while running."""
    if rate <= 0:
        return
    start = time.monotonic()
    done = 0
    while state["running"]:
        due = int((time.monotonic() - start) * rate)
        while done < due and state["running"]:
            await step()
            done += 1
        await asyncio.sleep(0.01)


async def batch_step() -> None:
    state["batch"] += 1
    await agent.ctx.emit("soak.batch", type="soak.seq", payload={"seq": state["batch"]})


async def rt_step() -> None:
    state["rt"] += 1
    await agent.ctx.emit("soak.rt", type="soak.seq", payload={"seq": state["rt"]})


async def tool_step() -> None:
    try:
        if state["tool_calls"] % 2 == 0:
            out = await agent.ctx.tool("soak_sink:echo", {"n": state["tool_calls"]}, timeout_ms=10000)
            assert out == {"n": state["tool_calls"]}, out
        else:
            await agent.ctx.tool("fs:list_dir", {"path": "."}, timeout_ms=10000)
    except (LoomError, AssertionError, TimeoutError) as err:  # counted and reported: the test fails on any
        state["tool_errors"] += 1
        state["last_tool_error"] = repr(err)
    state["tool_calls"] += 1


async def main() -> None:
    await agent.start()
    # The sink subscribes at run time; publishing before it has would send the first events to nobody.
    while True:
        try:
            if (await agent.ctx.tool("soak_sink:report", {}, timeout_ms=5000))["subscribed"]:
                break
        except LoomError as err:  # not registered yet
            logging.getLogger("soak").debug("waiting for the sink: %s", err)
        await asyncio.sleep(0.2)
    await asyncio.gather(paced(BATCH_RATE, batch_step), paced(RT_RATE, rt_step), paced(TOOL_RATE, tool_step))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
