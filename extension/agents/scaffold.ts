// "Loom: New Agent": a working Python agent under agents/ and its [agents.<id>] entry in loom.toml.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export function agentTemplate(id: string): string {
  return `"""${id}: a Loom agent. It reacts to saved files and to the default hotkey (ctrl+alt+l)."""
from loom import Agent


async def on_event(ctx, topic, event):
    data = event.json()
    if topic == "editor.saved":
        await ctx.tool("ui:notify", {"message": f"saw {data.get('file')} saved"})
    elif topic.startswith("hotkey."):
        # The window names the agent beside the text: "${id}: got hotkey.default".
        await ctx.tool("ui:status", {"text": f"got {topic}"})


agent = Agent("${id}", topics=["editor.saved", "hotkey.>"], on_event=on_event)

if __name__ == "__main__":
    agent.run()
`;
}

export interface ScaffoldResult {
  script: string;
  configUpdated: boolean;
}

/** A new workspace's loom.toml, before its first agent is appended. */
export const STARTER_CONFIG = `# Loom's settings for this workspace; every key is described in Loom's loom.toml reference.
# The runtime follows this file: an [agents.<id>] table added, changed or removed here takes
# effect when the file is saved.

[watcher]
# fs.created / fs.changed / fs.deleted events for the workspace's files.
enabled = true
`;

/**
 * Throws with a clear message for a bad id or an agent that already exists. `autostart`: the
 * runtime starts it by itself (a workspace's first agent); otherwise Start Agent does.
 */
export function scaffoldAgent(workspace: string, id: string, opts: { autostart?: boolean } = {}): ScaffoldResult {
  if (!AGENT_ID_PATTERN.test(id))
    throw new Error(`agent id "${id}" must match ${AGENT_ID_PATTERN} (lower case letters, digits, underscores)`);
  const script = join(workspace, 'agents', `${id}.py`);
  if (existsSync(script)) throw new Error(`agents/${id}.py already exists`);
  const config = join(workspace, 'loom.toml');
  const text = existsSync(config) ? readFileSync(config, 'utf8') : '';
  if (new RegExp(`^\\[agents\\.${id}\\]`, 'm').test(text)) throw new Error(`loom.toml already declares [agents.${id}]`);
  mkdirSync(join(workspace, 'agents'), { recursive: true });
  writeFileSync(script, agentTemplate(id));
  const entry = `${text && !text.endsWith('\n') ? '\n' : ''}\n[agents.${id}]\ncommand = "python"\nargs = ["agents/${id}.py"]\nrestart = "on-failure"\nautostart = ${opts.autostart === true}\n`;
  appendFileSync(config, entry);
  return { script, configUpdated: true };
}
