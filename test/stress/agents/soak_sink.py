"""Soak sink: subscribes batched to soak.batch and realtime to soak.rt, and checks the sequence
numbers: on the batched topic every number must arrive once, in order. `soak_sink:report` says
what arrived; `soak_sink:echo` is the tool the publisher calls."""
import asyncio

from loom import Agent, tool

stats = {"subscribed": False, "batch": 0, "batch_last": 0, "batch_gaps": 0, "batch_dups": 0, "rt": 0, "rt_last": 0,
         "rt_out_of_order": 0, "first_gap": ""}


@tool("soak_sink:report", description="What arrived so far.", kind="read")
def report() -> dict:
    return dict(stats)


@tool("soak_sink:echo", description="Returns its arguments.", kind="read")
def echo(n: int) -> dict:
    return {"n": n}


async def on_event(ctx, topic, event):
    seq = event.json()["seq"]
    if topic == "soak.batch":
        stats["batch"] += 1
        if seq == stats["batch_last"] + 1:
            stats["batch_last"] = seq
        elif seq <= stats["batch_last"]:
            stats["batch_dups"] += 1
        else:
            stats["batch_gaps"] += 1
            stats["first_gap"] = stats["first_gap"] or f"expected {stats['batch_last'] + 1}, got {seq}"
            stats["batch_last"] = seq
    else:
        stats["rt"] += 1
        if seq <= stats["rt_last"]:
            stats["rt_out_of_order"] += 1
        stats["rt_last"] = max(seq, stats["rt_last"])


agent = Agent(tools=[report, echo], on_event=on_event)


async def main() -> None:
    await agent.start()
    await agent.ctx.subscribe("soak.batch", "batched")
    await agent.ctx.subscribe("soak.rt", "realtime")
    stats["subscribed"] = True
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
