#!/usr/bin/env python3
"""Context-engineering benchmark: tokens a long ReAct run sends to the model, with the cognitive
loop's compaction + offloading (loom.context) beside a baseline measured in the same run.

    .venv/bin/python test/bench/compaction.bench.py [--steps 30] [--lines 150]

The model is the scripted OpenAI-compatible server of the SDK's brain tests
(sdk/python/tests/brain/llm_server.py): it asks for `--steps` tool calls (fs:read of generated
files, every fourth call an fs:list), then answers. The tools run in the real runtime
(`node dist/runtime.js`) on a temp workspace. Each configuration gets the same script:

  plain         compaction off, offloading off, no context budget, no cut of tool outputs:
                every observation goes back to the model in full on every call (the baseline)
  plain+budget  the loop without context engineering but with its default limits
                (context_budget_tokens 12000, max_observation_chars 4000: cut and elided)
  engineered    the defaults: outputs over 2 KB / 50 lines offloaded to .loom/cache with a
                preview; past 5 tool steps the older ones folded into one summary

Tokens are this SDK's estimate (loom.memory.tokens: chars/4 + 4 per message) of each request's
messages as the server received them. Printed as figures and ratios to the baseline; not a test:
nothing here passes or fails, and nothing is timed.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk" / "python"))
sys.path.insert(0, str(REPO / "sdk" / "python" / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "sdk" / "python" / "tests" / "brain"))
from llm_server import ScriptedLLM, completion, scripted_provider  # noqa: E402
from runtime_process import RuntimeProcess  # noqa: E402

from loom import Agent  # noqa: E402
from loom.cognitive import CognitiveAgent, CognitiveConfig  # noqa: E402
from loom.memory import messages_tokens  # noqa: E402

FILES = 12


def make_workspace(ws: Path, lines: int) -> None:
    (ws / "loom.toml").write_text('[runtime]\nlog_level = "warn"\n\n[watcher]\nenabled = false\n')
    data = ws / "data"
    data.mkdir()
    for i in range(FILES):
        body = "\n".join(f"record {i}.{j}: value={j * 7 % 101} status={'ok' if j % 3 else 'check'} "
                         "note=the quick brown fox jumps over the lazy dog" for j in range(lines))
        (data / f"part{i:02d}.txt").write_text(body)


def script(steps: int) -> list:
    replies = []
    for n in range(steps):
        if n % 4 == 3:
            replies.append(completion('Thought: see what else is there.\nAction: fs:list\nAction Input: {"path": "data"}'))
        else:
            replies.append(completion(f"Thought: read the next part.\nAction: fs:read\n"
                                      f'Action Input: {{"path": "data/part{n % FILES:02d}.txt"}}'))
    replies.append(completion("Thought: all read.\nFinal Answer: every part was reviewed"))
    return replies


CONFIGS = {
    "plain": dict(compaction=False, offload_outputs=False, context_budget_tokens=10**7, max_observation_chars=10**7),
    "plain+budget": dict(compaction=False, offload_outputs=False),
    "engineered": dict(),
}


async def run_one(rt: RuntimeProcess, llm: ScriptedLLM, name: str, steps: int) -> dict:
    first = len(llm.requests)
    llm.script(*script(steps))
    async with Agent("bench-brain", address=rt.address, token=rt.token) as a:
        config = CognitiveConfig(native_tools=False, max_iterations=steps + 2, history_turns=0, **CONFIGS[name])
        brain = CognitiveAgent(a.ctx, scripted_provider(llm), config, available_tools=["fs:read", "fs:list"],
                               workspace_path=rt.workspace)
        result = await brain.run("Review every part in data/ and report")
    sizes = [messages_tokens(r.body["messages"]) for r in llm.requests[first:]]
    offloaded = sum(1 for s in result.steps if s.reduced_step is not None and s.reduced_step.outcome_ref)
    return {"ok": result.success, "calls": len(sizes), "total": sum(sizes), "max": max(sizes), "last": sizes[-1],
            "offloaded": offloaded}


async def main() -> None:
    parser = argparse.ArgumentParser(description="Loom context-engineering benchmark")
    parser.add_argument("--steps", type=int, default=30, help="tool calls in the ReAct run")
    parser.add_argument("--lines", type=int, default=150, help="lines per generated file")
    opts = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory(prefix="loom-bench-") as tmp, ScriptedLLM() as llm:
        ws = Path(tmp)
        make_workspace(ws, opts.lines)
        rt = RuntimeProcess(ws).start()
        try:
            for name in CONFIGS:
                results[name] = await run_one(rt, llm, name, opts.steps)
        finally:
            rt.stop()

    base = results["plain"]
    print(f"\nLoom context-engineering benchmark — ReAct run of {opts.steps} tool calls "
          f"({FILES} files x {opts.lines} lines), scripted model, real runtime")
    print(f"{'':14}{'ok':>4}{'model calls':>13}{'tokens sent':>13}{'largest call':>14}{'last call':>11}"
          f"{'offloaded':>11}{'sent/plain':>12}")
    for name, r in results.items():
        print(f"{name:14}{'yes' if r['ok'] else 'NO':>4}{r['calls']:>13}{r['total']:>13}{r['max']:>14}{r['last']:>11}"
              f"{r['offloaded']:>11}{r['total'] / base['total']:>12.3f}")
    eng = results["engineered"]
    print(f"(engineered sends {base['total'] / eng['total']:.1f}x fewer tokens than plain, "
          f"{results['plain+budget']['total'] / eng['total']:.1f}x fewer than plain+budget; "
          "tokens: chars/4 + 4 per message)")


if __name__ == "__main__":
    asyncio.run(main())
