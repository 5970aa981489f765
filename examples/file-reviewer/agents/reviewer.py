"""Reviews files as they change: fs.created / fs.changed under src/ -> reviews/<path>.md.

The model drives the tools (fs:read, then fs:write) through a ReAct loop; the runtime's
sandbox keeps both inside the workspace. Events are handled one at a time, in order, so a
file saved twice is reviewed twice, never concurrently.
"""
import logging

from loom import Agent
from loom.cognitive import CognitiveAgent, CognitiveConfig
from loom.llm import LLMProvider

log = logging.getLogger("reviewer")

SYSTEM = ("You review source files. Read the file with fs:read, then write a short review "
          "(bugs first, then style; at most 10 bullet points, Markdown) with fs:write to the path "
          "you are given, then give a one-line summary as your final answer.")

async def review(ctx, path):
    target = f"reviews/{path}.md"
    result = await brain.run(f"Review {path} and write the review to {target} (create_dirs true).")
    written = any(s.tool_call and s.tool_call.name == "fs:write" and s.observation.success for s in result.steps)
    await ctx.emit("review.done", type="review",
                   payload={"path": path, "review": target if written else None, "summary": result.answer,
                            "success": result.success and written, "error": result.error})


async def on_event(ctx, topic, event):
    data = event.json() or {}
    if data.get("path") and data.get("kind", "file") == "file":
        await review(ctx, data["path"])


agent = Agent("reviewer", topics=["fs.created", "fs.changed"], on_event=on_event)
brain = CognitiveAgent(agent.ctx, LLMProvider.from_config(agent.ctx, "reviewer"),  # [llm.reviewer] in loom.toml
                       CognitiveConfig(system_prompt=SYSTEM, max_iterations=6, history_turns=0),
                       available_tools=["fs:read", "fs:write"])

if __name__ == "__main__":
    agent.run()
