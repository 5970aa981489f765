"""Calls one tool by name as a reference client does (its loom-py, no credential) and prints the
output as one JSON line. Usage: python call_tool.py ADDRESS NAME ARGUMENTS_JSON"""

import asyncio
import json
import sys

from loom import Agent


async def main(address: str, name: str, arguments: str) -> None:
    agent = Agent(agent_id="compat-caller", topics=["compat.caller"], address=address)
    await agent.start()
    try:
        print(await agent._ctx.tool(name, payload=json.loads(arguments), timeout_ms=10000), flush=True)
    finally:
        await agent.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
