"""`loom init`: a new workspace the runtime and the VS Code extension open as they are."""
from __future__ import annotations

from pathlib import Path

from ..errors import LoomError

LOOM_TOML = '''\
# Loom workspace. The runtime reads this file: VS Code (the Loom extension) starts it when the
# folder opens; headless, `loom up` (in the background) or `loom run` (with the agents/ scripts).
# Every key is described in runtime/config/loom.toml.md of Loom for VS Code.

[runtime]
log_level = "info"

[watcher]
# Publish fs.created / fs.changed / fs.deleted for these files.
include = ["**/*.md", "**/*.py", "**/*.txt"]

# The runtime starts this agent, restarts it when it fails and hands it its credential.
[agents.{agent_id}]
command = "python"
args = ["agents/{agent_id}.py"]
restart = "on-failure"

# A model for agents that think (loom.LLMProvider.from_config(ctx, "default")):
# [llm.default]
# type = "deepseek"
# api_key = "${{DEEPSEEK_API_KEY:-}}"
'''

AGENT_PY = '''\
"""{agent_id}: answers `{agent_id}.hello` requests and offers the tool `{agent_id}:greet`.

Try it with the runtime up (`loom up`, or VS Code):  loom chat --remote --topic {agent_id}.hello
"""
from loom import Agent, tool


@tool("{agent_id}:greet", description="Greets someone by name", kind="read")
def greet(name: str = "world") -> dict:
    return {{"greeting": f"Hello, {{name}}!"}}


async def on_event(ctx, topic, event):
    data = event.data if isinstance(event.data, dict) else {{"text": event.text}}
    name = data.get("name") or data.get("text") or "world"
    answer = {{"answer": f"Hello, {{name}}!", "agent": "{agent_id}"}}
    if event.reply_to or event.correlation_id:
        await ctx.reply(event, type="{agent_id}.greeting", payload=answer)
    else:
        await ctx.emit("{agent_id}.greetings", type="{agent_id}.greeting", payload=answer)


if __name__ == "__main__":
    Agent("{agent_id}", topics=["{agent_id}.hello"], tools=[greet], on_event=on_event).run()
'''

GITIGNORE = ".loom/\n__pycache__/\n.env\n"


class ScaffoldError(LoomError):
    """`loom init` cannot scaffold here (bad agent id, loom.toml already there)."""


def scaffold(target: Path, agent_id: str = "hello", force: bool = False) -> list[Path]:
    """Writes loom.toml, agents/<agent_id>.py and a .gitignore into `target`; the files written.
    An existing loom.toml is kept (ScaffoldError) unless `force`; an existing agent script or
    .gitignore is kept."""
    if not agent_id.replace("-", "").replace("_", "").isalnum() or not agent_id.isascii():
        raise ScaffoldError(f"agent id {agent_id!r}: use letters, digits, '-' or '_'")
    target = Path(target).resolve()
    toml = target / "loom.toml"
    if toml.exists() and not force:
        raise ScaffoldError(f"{toml} exists already (a Loom workspace); --force replaces it")
    target.mkdir(parents=True, exist_ok=True)
    (target / "agents").mkdir(exist_ok=True)
    written = []
    toml.write_text(LOOM_TOML.format(agent_id=agent_id), encoding="utf-8")
    written.append(toml)
    script = target / "agents" / f"{agent_id}.py"
    if not script.exists():
        script.write_text(AGENT_PY.format(agent_id=agent_id), encoding="utf-8")
        written.append(script)
    ignore = target / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
        written.append(ignore)
    return written
