"""Counts timer ticks and file changes, keeps the count in the runtime store, and now and then
asks the greeter (request/reply) and calls its tool through the runtime."""
from loom import Agent


async def on_event(ctx, topic, event):
    raw = await ctx.store.get_state("count")
    count = int(raw or b"0") + 1
    await ctx.store.put_state("count", str(count))

    if topic.startswith("fs."):
        path = event.json().get("path")
        await ctx.emit("quickstart.file", type="file.seen", payload={"path": path, "kind": topic.split(".")[1]})
        return

    if count % 2 == 0:
        reply = await ctx.request("greeter.ask", type="ask", payload={"name": f"tick {count}"}, timeout_ms=5000)
        await ctx.emit("quickstart.greeting", type="greeting.received", payload=reply.json())
    else:
        result = await ctx.tool("greeter:greet", {"name": "counter", "excited": True}, timeout_ms=5000)
        await ctx.emit("quickstart.tool", type="tool.result", payload={"count": count, **result})


agent = Agent("counter", topics=["timer.>", "fs.>"], on_event=on_event)

if __name__ == "__main__":
    agent.run()
