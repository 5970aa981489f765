"""The planner: on each `timer.analysis` tick, plan -> ask the analyst (request/reply) -> report."""
import asyncio
import logging

from loom import Agent, RequestTimeout
from loom.cognitive.protocol import extract_json_object
from loom.llm import LLMError, LLMProvider

log = logging.getLogger("planner")

PLAN_SYSTEM = ('You plan research. Split the goal into at most {n} concrete questions for an analyst. '
               'Answer with JSON only: {{"questions": ["...", "..."]}}')
REPORT_SYSTEM = "You write a short Markdown report (a title, then one section per question, then a verdict)."

async def plan(ctx, goal, n):
    reply = await llm.generate(f"Goal: {goal}", system=PLAN_SYSTEM.format(n=n), temperature=0.2)
    obj, _ = extract_json_object(str(reply))
    questions = [q for q in (obj or {}).get("questions", []) if isinstance(q, str) and q.strip()]
    return questions[:n] or [goal]  # an unusable plan still gets the goal analysed


async def ask(ctx, question):
    try:
        reply = await ctx.request("analyst.task", type="task", payload={"question": question}, timeout_ms=180000)
        return reply.json()
    except RequestTimeout:
        return {"question": question, "answer": "", "success": False, "error": "the analyst did not answer in time"}


async def on_event(ctx, topic, event):
    tick = event.json() or {}
    settings = tick.get("payload") or {}
    goal = settings.get("goal") or "Assess the market"
    try:
        questions = await plan(ctx, goal, int(settings.get("max_tasks", 3)))
        answers = await asyncio.gather(*(ask(ctx, q) for q in questions))
        findings = "\n\n".join(f"Q: {a['question']}\nA: {a['answer'] or 'no answer: ' + str(a.get('error'))}"
                               for a in answers)
        report = str(await llm.generate(f"Goal: {goal}\n\nFindings:\n{findings}", system=REPORT_SYSTEM))
    except LLMError as e:
        log.warning("tick %s: %s", tick.get("tick"), e)
        await ctx.emit("pipeline.report", type="report.failed", payload={"tick": tick.get("tick"), "error": str(e)})
        return
    path = f"reports/report-{tick.get('tick', 0)}.md"
    await ctx.tool("fs:write", {"path": path, "content": report, "create_dirs": True})
    await ctx.emit("pipeline.report", type="report", payload={
        "tick": tick.get("tick"), "path": path, "questions": questions,
        "answered": sum(1 for a in answers if a.get("success"))})


agent = Agent("planner", topics=["timer.analysis"], on_event=on_event)
llm = LLMProvider.from_config(agent.ctx, "analyst")  # [llm.analyst] in loom.toml

if __name__ == "__main__":
    agent.run()
