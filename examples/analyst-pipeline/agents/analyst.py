"""The worker: answers one analysis question per request on `analyst.task` and replies."""
from loom import Agent
from loom.cognitive import CognitiveAgent, CognitiveConfig
from loom.llm import LLMProvider

SYSTEM = ("You are a financial analyst. Answer the question you are given in at most 5 sentences, "
          "with the key figures or drivers, and say how confident you are.")

async def on_event(ctx, topic, event):
    question = (event.json() or {}).get("question", "")
    if not question:
        await ctx.reply(event, type="analysis.error", payload={"error": "the request has no question"})
        return
    result = await brain.run(question)
    await ctx.reply(event, type="analysis", payload={
        "question": question, "answer": result.answer, "success": result.success, "error": result.error})


agent = Agent("analyst", topics=["analyst.task"], on_event=on_event)
brain = CognitiveAgent(agent.ctx, LLMProvider.from_config(agent.ctx, "analyst"),  # [llm.analyst] in loom.toml
                       CognitiveConfig(system_prompt=SYSTEM, thinking_strategy="cot", history_turns=0))

if __name__ == "__main__":
    agent.run()
