"""On runtime alpha: on every timer.trade tick, prices an order with pricing:quote (a tool of
runtime beta, called through NATS) and publishes it on market.orders (shared with beta)."""
import itertools

from loom import Agent

orders = itertools.count(1)


async def on_event(ctx, topic, event):
    n = next(orders)
    try:
        quote = await ctx.tool("pricing:quote", {"symbol": "LOOM", "qty": n}, timeout_ms=5000)
    except Exception as err:  # beta not up yet: its tool is listed here once it is
        print(f"trader: order {n} not priced: {err}", flush=True)
        return
    await ctx.emit("market.orders", type="order.placed", payload={"n": n, **quote})


agent = Agent("trader", topics=["timer.trade"], on_event=on_event)

if __name__ == "__main__":
    agent.run()
