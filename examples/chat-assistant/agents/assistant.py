"""The chat assistant: answers questions about the editor selection.

hotkey.default -> the answer in a notification (ui:notify)
hotkey.insert  -> the answer inserted at the cursor (editor:insert)
assistant.ask  -> {"question": "..."} from any agent or the command palette's Emit

Every answer is also published on `assistant.answer`, and the conversation is kept in the
runtime store, so a follow-up question after a restart still has its context.
"""
import logging

from loom import Agent, ToolError
from loom.cognitive import CognitiveAgent, CognitiveConfig
from loom.llm import LLMProvider
from loom.memory import Memory

log = logging.getLogger("assistant")

SYSTEM = ("You are a concise programming assistant inside VS Code. Answer about the selected code: "
          "explain, review or improve it. Reply with plain text; when you propose code, give only the code.")


def prompt_for(data):
    selection = data.get("selection") or {}
    text = selection.get("text") if isinstance(selection, dict) else str(selection)
    question = data.get("question") or "Explain this code briefly and point out any bug."
    if not text:
        return question
    where = f"{data.get('file') or 'untitled'} ({data.get('language') or 'text'})"
    return f"Selected in {where}:\n```\n{text}\n```\n\n{question}"


async def deliver(ctx, topic, answer):
    """Show or insert the answer through the editor's tools; None when there is no editor."""
    try:
        if topic == "hotkey.insert":
            await ctx.tool("editor:insert", {"text": answer})
            return "editor:insert"
        await ctx.tool("ui:notify", {"message": answer[:1000]})
        return "ui:notify"
    except ToolError as e:  # headless runtime: no editor tools; the event below still carries it
        log.info("answer not shown in an editor: %s", e)
        return None


async def on_event(ctx, topic, event):
    data = event.json() or {}
    if not memory.get_recent():
        await memory.load(limit=20)  # the conversation from before a restart
    result = await brain.run(prompt_for(data))
    answer = result.answer if result.success else f"Sorry, no answer: {result.error}"
    shown_by = await deliver(ctx, topic, answer)
    await ctx.emit("assistant.answer", type="answer",
                   payload={"trigger": topic, "answer": answer, "success": result.success, "shown_by": shown_by})


agent = Agent("assistant", topics=["hotkey.default", "hotkey.insert", "assistant.ask"], on_event=on_event)
memory = Memory(agent.ctx, session_id="assistant", persist=True, max_tokens=3000)
brain = CognitiveAgent(agent.ctx, LLMProvider.from_config(agent.ctx, "assistant"),  # [llm.assistant] in loom.toml
                       CognitiveConfig(system_prompt=SYSTEM, thinking_strategy="single_shot"), memory=memory)

if __name__ == "__main__":
    agent.run()
