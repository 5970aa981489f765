"""`loom chat`: talk to an agent from the terminal.

Two ways, one prompt:

- in-process (the reference's way, the default): the CLI *is* the chat agent. It registers as
  `--agent-id` (default `chat-assistant`) on `chat.input` and `chat.replies`, and answers with a
  CognitiveAgent (ReAct by default) whose model and settings come from loom.toml:
  `[agents.<id>] llm_provider`, `thinking_strategy`, `max_iterations`, and `[llm.<name>]`.
  Tools that write or execute are put to you first ("Allow this action? [y/N]").
- `--remote`: the CLI is only a client of a chat agent running elsewhere (started by the runtime,
  by `loom run`, or by hand). Each line goes out as a request on `--topic` (default `chat.input`),
  payload `{"text", "message", "session"}`; the first reply is printed (its `answer`, `text`,
  `reply` or `content`, else the payload).

Commands at the prompt: /help, /clear, /history, /verbose, /stream, /research <topic>, /quit.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_AGENT_ID = "chat-assistant"
INPUT_TOPIC = "chat.input"
REPLIES_TOPIC = "chat.replies"
#: The tools the reference's chat assistant is given (the runtime serves all of them).
DEFAULT_TOOLS = ["weather:get", "system:shell", "fs:read_file", "fs:write_file", "fs:list_dir",
                 "fs:delete", "web:search"]
SYSTEM_PROMPT = (
    "You are a helpful assistant working in the user's Loom workspace, with tools to read and "
    "change files, run allowed shell commands, search the web and get the weather. Use a tool "
    "when you need information you do not have; think step by step; answer concisely."
)


class _Style:
    # Set in __init__ from `codes`; declared here for the type checker.
    reset: str
    bold: str
    dim: str
    red: str
    green: str
    yellow: str
    blue: str
    magenta: str
    cyan: str

    def __init__(self, enabled: bool) -> None:
        codes = {"reset": 0, "bold": 1, "dim": 2, "red": 31, "green": 32, "yellow": 33, "blue": 34,
                 "magenta": 35, "cyan": 36}
        for name, code in codes.items():
            setattr(self, name, f"\033[{code}m" if enabled else "")


S = _Style(sys.stdout.isatty() and not os.environ.get("NO_COLOR"))


class Colors:
    """ANSI escape codes by name, as the reference's chat exposes them (always on; `S` is the
    terminal-aware set this module prints with)."""

    RESET, BOLD, DIM, ITALIC, UNDERLINE = (f"\033[{n}m" for n in (0, 1, 2, 3, 4))
    RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, WHITE = (f"\033[{n}m" for n in range(31, 38))
    GRAY = "\033[90m"
    BRIGHT_GREEN, BRIGHT_YELLOW, BRIGHT_BLUE, BRIGHT_MAGENTA, BRIGHT_CYAN = (f"\033[{n}m" for n in range(92, 97))


def print_header() -> None:
    """The chat's banner."""
    w = _width()
    tagline = "an agent with a cognitive loop, in your terminal"
    print(f"\n{S.cyan}{S.bold}{'Loom Chat'.center(w)}\n{tagline.center(w)}{S.reset}\n")


def print_divider(char: str = "─", color: str | None = None) -> None:
    print(f"{S.dim if color is None else color}{char * _width()}{S.reset}")


def wrap_text(text: str, width: int, indent: str = "") -> str:
    """`text` re-flowed to `width` columns, each line starting with `indent` (just `indent` when empty)."""
    import textwrap

    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent) or indent


def print_streaming_header() -> None:
    print(f"\n{S.magenta}{S.bold}Thinking...{S.reset}")
    print_divider(color=S.dim)


def _width() -> int:
    return min(shutil.get_terminal_size((80, 24)).columns, 72)


def _answer_text(payload: Any) -> str:
    if isinstance(payload, dict):
        for key in ("answer", "text", "reply", "content", "message"):
            value = payload.get(key)
            if isinstance(value, str):
                return value
    return payload if isinstance(payload, str) else str(payload)


class ChatSession:
    """An in-process chat agent (see the module's docstring)."""

    def __init__(self, agent_id: str = DEFAULT_AGENT_ID, bridge_addr: str | None = None,
                 verbose: bool = True, streaming: bool = True, *, llm_provider: str | None = None,
                 tools: list[str] | None = None, project_dir: Path | None = None,
                 register_as: str | None = None) -> None:
        self.agent_id = agent_id
        #: The id the chat connects as: agent_id, unless that one is already connected.
        self.register_as = register_as or agent_id
        self.bridge_addr = bridge_addr
        self.verbose = verbose
        self.streaming = streaming
        self.llm_provider = llm_provider
        self.tools = DEFAULT_TOOLS if tools is None else tools
        self.project_dir = Path(project_dir or Path.cwd())
        self.agent: Any = None
        self.cognitive: Any = None
        self.conversation_history: list[dict[str, str]] = []
        self.ask: Callable[[str], str] = input

    def _provider_name(self, project: Any) -> str:
        settings = project.agent_settings(self.agent_id)
        if self.llm_provider:
            return self.llm_provider
        configured = settings.get("llm_provider")
        if isinstance(configured, str):
            return configured
        if len(project.llm_providers) == 1:
            return str(next(iter(project.llm_providers)))
        return "deepseek"

    async def start(self) -> ChatSession:
        from .. import Agent
        from ..cognitive import CognitiveAgent, CognitiveConfig
        from ..llm import LLMProvider
        from ..runtime.config import load_project_config

        project = load_project_config(self.project_dir)
        settings = project.agent_settings(self.agent_id)
        address = self.bridge_addr or os.environ.get("LOOM_BRIDGE_ADDR") or None
        self.agent = Agent(self.register_as, topics=[INPUT_TOPIC, REPLIES_TOPIC], address=address)
        await self.agent.start()
        name = self._provider_name(project)
        llm = LLMProvider.from_config(self.agent.ctx, name, str(project.path) if project.path else None)
        self.cognitive = CognitiveAgent(
            self.agent.ctx, llm,
            config=CognitiveConfig(
                system_prompt=str(settings.get("system_prompt", SYSTEM_PROMPT)),
                thinking_strategy=str(settings.get("thinking_strategy", "react")),
                max_iterations=int(settings.get("max_iterations", 10)),
                temperature=float(settings.get("temperature", 0.7)),
            ),
            available_tools=list(settings.get("tools", self.tools)),
            permission_callback=self._request_permission,
        )
        return self

    def _request_permission(self, tool_name: str, args: dict[str, Any], reason: str) -> bool:
        print(f"\n{S.yellow}⚠  {tool_name} wants to run{S.reset} {S.dim}{args}{S.reset}")
        if reason:
            print(f"{S.dim}   ({reason}){S.reset}")
        try:
            return self.ask(f"{S.yellow}Allow this action? [y/N]: {S.reset}").strip().lower() in ("y", "yes")
        except (EOFError, KeyboardInterrupt):
            return False

    @staticmethod
    def _as_dict(result: Any) -> dict[str, Any]:
        return {
            "answer": result.answer,
            "steps": [{"step": s.step, "reasoning": s.reasoning,
                       "tool_call": s.tool_call.to_dict() if s.tool_call else None,
                       "observation": ({"success": s.observation.success, "output": s.observation.output,
                                        "error": s.observation.error} if s.observation else None)}
                      for s in result.steps],
            "iterations": result.iterations,
            "success": result.success,
            "error": result.error,
            "latency_ms": result.total_latency_ms,
        }

    async def chat(self, message: str) -> dict[str, Any]:
        """One turn, the whole answer at once."""
        if self.cognitive is None:
            raise RuntimeError("Chat session not started")
        self.conversation_history.append({"role": "user", "content": message})
        result = await self.cognitive.run(message)
        self.conversation_history.append({"role": "assistant", "content": result.answer})
        return self._as_dict(result)

    async def chat_stream(self, message: str, on_chunk: Callable[[str], None] | None = None,
                          on_step: Callable[[Any], None] | None = None) -> dict[str, Any]:
        """One turn, the model's text to `on_chunk` and each finished step to `on_step` as they come."""
        from ..cognitive.types import CognitiveResult, ThoughtStep

        if self.cognitive is None:
            raise RuntimeError("Chat session not started")
        self.conversation_history.append({"role": "user", "content": message})
        final = None
        async for item in self.cognitive.run_stream(message):
            if isinstance(item, str):
                if on_chunk:
                    on_chunk(item)
            elif isinstance(item, ThoughtStep):
                if on_step:
                    on_step(item)
            elif isinstance(item, CognitiveResult):
                final = item
        if final is None:
            return {"answer": "", "steps": [], "iterations": 0, "success": False}
        self.conversation_history.append({"role": "assistant", "content": final.answer})
        return self._as_dict(final)

    async def research(self, topic: str, on_progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Plan, investigate, write a markdown report; saved under reports/ through fs:write_file."""
        if self.cognitive is None:
            raise RuntimeError("Chat session not started")
        say = on_progress or (lambda _m: None)
        say(f"researching: {topic}")
        plan = await self.cognitive.run(f"Plan research on: {topic}. List 3 to 5 specific questions.")
        say("plan ready; investigating")
        found = await self.cognitive.run(
            f"Research plan:\n{plan.answer}\n\nInvestigate {topic} with the tools you have; cite sources.")
        say("writing the report")
        report = await self.cognitive.run(
            f"Write a markdown report on {topic}: summary, key findings, analysis, conclusions, "
            f"references.\n\nPlan:\n{plan.answer}\n\nFindings:\n{found.answer}")
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in topic)[:50]
        path: str | None = f"reports/{stamp}_{safe}.md"
        text = f"# {topic}\n\n_{datetime.now():%Y-%m-%d %H:%M} · {self.agent_id}_\n\n{report.answer}\n"
        try:
            await self.agent.ctx.tool("fs:write_file", {"path": path, "content": text})
            say(f"saved {path}")
        except Exception as e:  # noqa: BLE001 - the report is still shown
            say(f"could not save the report: {e}")
            path = None
        iterations = plan.iterations + found.iterations + report.iterations
        summary = report.answer if len(report.answer) <= 500 else report.answer[:500] + "..."
        return {"topic": topic, "report_path": path, "summary": summary, "full_report": text,
                "iterations": iterations}

    def clear_history(self) -> None:
        self.conversation_history = []
        if self.cognitive is not None:
            self.cognitive.memory.clear()

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.stop()


class RemoteChat:
    """A client of a chat agent running elsewhere: requests on `topic`, replies printed."""

    def __init__(self, topic: str = INPUT_TOPIC, bridge_addr: str | None = None,
                 agent_id: str | None = None, timeout: float = 120.0) -> None:
        self.topic = topic
        self.bridge_addr = bridge_addr
        self.agent_id = agent_id or f"chat-cli-{uuid.uuid4().hex[:8]}"
        self.timeout = timeout
        self.session = uuid.uuid4().hex
        self.agent: Any = None
        self.verbose = False
        self.streaming = False
        self.conversation_history: list[dict[str, str]] = []

    async def start(self) -> RemoteChat:
        from .. import Agent

        address = self.bridge_addr or os.environ.get("LOOM_BRIDGE_ADDR") or None
        self.agent = Agent(self.agent_id, topics=[], address=address)
        await self.agent.start()
        return self

    async def chat(self, message: str) -> dict[str, Any]:
        self.conversation_history.append({"role": "user", "content": message})
        reply = await self.agent.ctx.request(
            self.topic, type="chat.message", timeout_ms=int(self.timeout * 1000),
            payload={"text": message, "message": message, "session": self.session})
        answer = _answer_text(reply.data)
        self.conversation_history.append({"role": "assistant", "content": answer})
        return {"answer": answer, "steps": [], "iterations": 0, "success": True, "from": reply.source}

    async def chat_stream(self, message: str, on_chunk: Any = None, on_step: Any = None) -> dict[str, Any]:
        return await self.chat(message)

    async def research(self, topic: str, on_progress: Any = None) -> dict[str, Any]:
        raise RuntimeError("/research needs the in-process assistant (loom chat without --remote)")

    def clear_history(self) -> None:
        self.conversation_history = []
        self.session = uuid.uuid4().hex

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.stop()


def get_terminal_width() -> int:
    return _width()


def print_result(result: dict[str, Any]) -> None:
    """The answer of a turn (a ChatSession.chat result) and its figures."""
    print(f"\n{S.green}{S.bold}Assistant:{S.reset}\n{result['answer']}")
    stats = []
    if result.get("iterations"):
        stats.append(f"{result['iterations']} iterations")
    if result.get("latency_ms"):
        stats.append(f"{result['latency_ms']} ms")
    if result.get("success") is False:
        stats.append(f"failed: {result.get('error') or 'no answer'}")
    if stats:
        print(f"{S.dim}{' · '.join(stats)}{S.reset}")
    print()


def print_thinking_step(step: dict[str, Any], step_num: int) -> None:
    """One reasoning step of a result (the dict form of ChatSession.chat)."""
    print(f"{S.magenta}  step {step_num}{S.reset}")
    if step.get("reasoning"):
        print(f"{S.dim}    thought: {step['reasoning'][:400]}{S.reset}")
    if step.get("tool_call"):
        print(f"{S.cyan}    action: {step['tool_call']['tool']} {step['tool_call']['args']}{S.reset}")
    obs = step.get("observation")
    if obs:
        text = obs["output"] if obs["success"] else f"error: {obs['error']}"
        print(f"{S.dim}    observation: {text[:300]}{S.reset}")


def print_stream_step_complete(step: Any) -> None:
    """A ThoughtStep that just finished while streaming: its tool call and what came back (or,
    when the output was offloaded to a file, where it is and its summary)."""
    if step.tool_call is None:
        return
    print(f"\n{S.cyan}→ {step.tool_call.name} {step.tool_call.arguments}{S.reset}")
    obs = step.observation
    if obs is None:
        return
    reduced = getattr(step, "reduced_step", None) or getattr(obs, "reduced_step", None)
    if obs.success and reduced is not None and getattr(reduced, "outcome_ref", None):
        print(f"{S.green}  ✓ Offloaded to: {reduced.outcome_ref}{S.reset}")
        print(f"{S.dim}  Summary: {(reduced.observation or '')[:200]}{S.reset}")
        print(f"{S.dim}  View with: cat {reduced.outcome_ref}{S.reset}")
        return
    if not obs.success:
        print(f"{S.red}  ✗ Error: {obs.error}{S.reset}")
        return
    lines = obs.output.splitlines()
    for line in lines[:8]:
        print(f"{S.dim}  {line[:_width()]}{S.reset}")
    if len(lines) > 8:
        print(f"{S.dim}  … {len(lines) - 8} more lines{S.reset}")


def print_help() -> None:
    print(HELP + "\n")


HELP = """\
/help            this list
/clear           forget the conversation
/history         the conversation so far
/verbose         show or hide the reasoning steps (without streaming)
/stream          stream the model's text as it comes, or wait for whole answers
/research TOPIC  plan, investigate and write a report into reports/
/quit            leave (also /exit, /q, Ctrl+D)"""


async def _read_line(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def _agent_live(agent_id: str, bridge_addr: str | None) -> bool:
    """Whether the runtime has `agent_id` connected now (False when it cannot tell)."""
    from .._proto import runtime_pb2
    from ..connection import Connection
    from ..discovery import resolve_endpoint

    try:
        conn = Connection(
            resolve_endpoint(bridge_addr or os.environ.get("LOOM_BRIDGE_ADDR") or None, None),
            f"chat-cli-{uuid.uuid4().hex[:8]}",
        )
    except Exception:  # noqa: BLE001 - no runtime found: the chat's own start says so
        return False
    try:
        listed = await conn.runtime.ListAgents(runtime_pb2.ListAgentsRequest(), metadata=conn.metadata(), timeout=5)
        return any(a.agent_id == agent_id and a.state == "connected" for a in listed.agents)
    except Exception:  # noqa: BLE001 - an older or stricter runtime: behave as before
        return False
    finally:
        await conn.close()


async def run_chat_cli(bridge_addr: str | None = None, agent_id: str = DEFAULT_AGENT_ID, *,
                       remote: bool = False, topic: str = INPUT_TOPIC, llm_provider: str | None = None,
                       streaming: bool = True, timeout: float = 120.0, project_dir: Path | None = None) -> int:
    """The interactive loop (stdin to stdout). 0 on /quit or end of input, 1 when it cannot connect."""
    session: Any
    register_as = agent_id
    if not remote and await _agent_live(agent_id, bridge_addr):
        # The reference's chat app runs agents/chat.py and `loom chat` under one id. Here an id has
        # one live stream (a second would take it over, and the first would give way): so the chat
        # registers beside it, with the settings of [agents.<id>] all the same.
        register_as = f"{agent_id}-cli-{os.getpid()}"
        print(f"{S.dim}{agent_id} is already connected; this chat registers as {register_as}{S.reset}")
    if remote:
        session = RemoteChat(topic, bridge_addr, None if agent_id == DEFAULT_AGENT_ID else agent_id, timeout)
        title = f"talking to the agent on {topic}"
    else:
        session = ChatSession(agent_id, bridge_addr, streaming=streaming, llm_provider=llm_provider,
                              project_dir=project_dir, register_as=register_as)
        title = f"chatting as {agent_id}"
    print(f"{S.cyan}{S.bold}Loom chat{S.reset} — {title}; /help for commands")
    try:
        await session.start()
    except Exception as e:  # noqa: BLE001 - reported, with what to do
        print(f"{S.red}cannot start the chat: {e}{S.reset}")
        print(f"{S.dim}is the runtime running? `loom up` (or `loom run`) in the workspace{S.reset}")
        await session.stop()
        return 1
    print(f"{S.green}connected{S.reset}\n")
    try:
        while True:
            line = await _read_line(f"{S.blue}{S.bold}you ▶{S.reset} ")
            if line is None:
                break
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                cmd, _, rest = line.partition(" ")
                cmd = cmd.lower()
                if cmd in ("/quit", "/exit", "/q"):
                    break
                if cmd == "/help":
                    print_help()
                elif cmd == "/clear":
                    session.clear_history()
                    print("conversation cleared\n")
                elif cmd == "/history":
                    for i, msg in enumerate(session.conversation_history, 1):
                        who = "you" if msg["role"] == "user" else "assistant"
                        text = msg["content"] if len(msg["content"]) <= 70 else msg["content"][:70] + "…"
                        print(f"  [{i}] {who}: {text}")
                    print("" if session.conversation_history else "no conversation yet\n")
                elif cmd == "/verbose":
                    session.verbose = not session.verbose
                    print(f"verbose: {'on' if session.verbose else 'off'}\n")
                elif cmd == "/stream":
                    session.streaming = not session.streaming
                    print(f"streaming: {'on' if session.streaming else 'off'}\n")
                elif cmd == "/research":
                    if not rest.strip():
                        print("usage: /research TOPIC\n")
                        continue
                    try:
                        result = await session.research(
                            rest.strip(), on_progress=lambda m: print(f"{S.cyan}{m}{S.reset}")
                        )
                        print(f"\n{result['summary']}\n")
                    except Exception as e:  # noqa: BLE001
                        print(f"{S.red}research failed: {e}{S.reset}\n")
                else:
                    print(f"unknown command {cmd}; /help lists them\n")
                continue
            try:
                if session.streaming:
                    print(f"{S.magenta}thinking…{S.reset}")
                    result = await session.chat_stream(
                        line, on_chunk=lambda c: print(f"{S.dim}{c}{S.reset}", end="", flush=True),
                        on_step=print_stream_step_complete)
                else:
                    result = await session.chat(line)
                    if session.verbose:
                        for n, step in enumerate(result.get("steps") or [], 1):
                            print_thinking_step(step, n)
                print_result(result)
            except Exception as e:  # noqa: BLE001 - the session goes on
                print(f"{S.red}error: {e}{S.reset}\n")
    finally:
        await session.stop()
    print("bye")
    return 0
