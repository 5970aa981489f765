"""The well-behaved agent beside the fuzzer: one event at a time around the runtime (publish on
steady.ping, its own subscription delivers it, then the next), counting round trips.
STEADY_QOS: its subscription's QoS (batched by default).
`steady:count` reports them, so the test can compare its rate with and without the fuzzer."""
import asyncio
import os

from loom import Agent, tool

state = {"round_trips": 0, "errors": 0, "seq": 0}


@tool("steady:count", description="Round trips so far.", kind="read")
def count() -> dict:
    return dict(state)


arrived: asyncio.Queue = asyncio.Queue()


async def on_event(ctx, topic, event):
    await arrived.put(event.json()["seq"])


agent = Agent(topics=["steady.ping"], qos=os.environ.get("STEADY_QOS", "batched"), tools=[count], on_event=on_event)


async def main() -> None:
    await agent.start()
    # Each ping is sent from here, not from on_event: an event published while handling one
    # continues its hop count, and the runtime ends such a chain at its hop limit.
    while True:
        await agent.ctx.emit("steady.ping", type="steady.ping", payload={"seq": state["seq"]})
        seq = await arrived.get()
        if seq != state["seq"]:
            state["errors"] += 1
        state["round_trips"] += 1
        state["seq"] += 1


if __name__ == "__main__":
    asyncio.run(main())
