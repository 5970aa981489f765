"""An agent the runtime's supervisor starts (declared in the test workspace's loom.toml).

It answers every request on e2e.supervised.ping with its process id, so a test can tell a
restarted process from the first one. Address, token and id come from the environment.
"""
import os

from loom import Agent


async def on_event(ctx, topic, event):
    await ctx.reply(event, type="pong", payload={"pid": os.getpid(), "agent": ctx.agent_id})


if __name__ == "__main__":
    Agent(topics=["e2e.supervised.ping"], on_event=on_event).run()
