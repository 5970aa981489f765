"""On runtime beta: offers pricing:quote (offered to the cluster in loom.toml) and hears the
orders runtime alpha publishes on market.> (loom.node says where they came from)."""
from loom import Agent, tool


@tool("pricing:quote", description="Prices an order.")
def quote(symbol: str, qty: int) -> dict:
    return {"symbol": symbol, "qty": qty, "price": round(100 + qty * 0.25, 2), "priced_by": "beta"}


async def on_event(ctx, topic, event):
    print(f"desk: {topic} from {event.metadata.get('loom.node', 'here')}: {event.json()}", flush=True)


agent = Agent("desk", topics=["market.>"], tools=[quote], on_event=on_event)

if __name__ == "__main__":
    agent.run()
