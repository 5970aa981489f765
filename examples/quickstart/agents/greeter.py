"""Offers a tool and answers requests: the other half of counter.py."""
from loom import Agent, tool


@tool("greeter:greet", description="Greets someone by name.")
def greet(name: str, excited: bool = False) -> dict:
    return {"greeting": f"Hello, {name}{'!' if excited else '.'}"}


async def on_event(ctx, topic, event):
    # Requests for a greeting arrive on greeter.ask; the reply goes back to the asker.
    name = event.json().get("name", "world")
    await ctx.reply(event, type="greeting", payload={"text": f"Hello, {name}"})


agent = Agent("greeter", topics=["greeter.ask"], tools=[greet], on_event=on_event)

if __name__ == "__main__":
    agent.run()
