// The palette's "Loom: …" commands. Each takes optional arguments so keybindings, tree items and
// tests can run it without prompts; without them it asks through quick picks and input boxes.
import * as vscode from 'vscode';
import { askModal, askText, notify } from './notify';
import { listAgentEntries, type AgentEntry } from './agents/catalog';
import { AGENT_ID_PATTERN, scaffoldAgent, STARTER_CONFIG } from './agents/scaffold';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_ID, type RuntimeConnection } from './bridge/client';
import { topicMatches } from '../runtime/contract';
import type { Loom } from './loom';
import { alreadyReported, UntrustedError } from './loom';
import type { COMMANDS } from './ids';
import { openDashboard } from './dashboard/panel';
import { secretNameProblem, SUGGESTED_KEYS } from './secrets';
import { describeSelection } from './tools/editorTools';
import { relevant } from './sources/editorEvents';
import { workspaceRelative } from './tools/paths';
import { AgentItem } from './views/trees';
import { messageOf } from '../runtime/contract';

export { COMMANDS } from './ids';

type AgentArg = string | AgentItem | { id: string } | undefined;

export interface CallToolResult {
  status: string;
  output?: unknown;
  error?: { code: string; message: string };
}

const HOTKEY_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function agentIdOf(arg: AgentArg): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof AgentItem) return arg.row.id;
  return arg?.id;
}

/**
 * The editor context a hotkey carries: none for a document the editor events leave out (a file
 * outside the workspace folders, the data folder): the key means "wake my agent", not "send it
 * this file", and editor:selection refuses that same editor.
 */
function editorContext(): Record<string, unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !relevant(editor.document)) return { file: null, language: null, selection: null };
  const s = describeSelection(editor);
  return { file: s.file, uri: s.uri, language: s.language, selection: { text: s.text, start: s.start, end: s.end } };
}

const HOTKEY_MESSAGE_MS = 4000;
/** Subscribers that are not agents: the window itself, the dashboard's feed, the CLI's printer. */
const NOT_LISTENERS = new Set([AGENT_ID, 'dashboard', 'cli']);

/** The agents whose subscriptions match `topic`, by the runtime's own stats. */
async function listenersOf(conn: RuntimeConnection, topic: string): Promise<string[]> {
  const { subscriptions } = await conn.stats();
  const ids = subscriptions
    .filter((s) => !NOT_LISTENERS.has(s.subscriber) && topicMatches(s.pattern, topic))
    .map((s) => s.subscriber);
  return [...new Set(ids)].sort();
}

export function registerCommands(loom: Loom): vscode.Disposable[] {
  /** A command's failure: logged, shown, and rethrown so executeCommand's caller sees it too. */
  const command = (id: (typeof COMMANDS)[number], run: (...args: any[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (err) {
        const message = messageOf(err);
        loom.log.error(`${id}: ${message}`);
        if (!alreadyReported(err)) {
          loom.notices.push(`Loom: ${message}`);
          void notify('error', `Loom: ${message}`);
        }
        throw err;
      }
    });

  async function pickAgent(
    arg: AgentArg,
    placeHolder: string,
    filter: (e: AgentEntry & { state: string }) => boolean = () => true,
  ): Promise<(AgentEntry & { state: string }) | undefined> {
    const ws = loom.workspace;
    if (!ws) throw new Error('open a folder first');
    const rows = new Map<string, AgentEntry & { state: string }>();
    for (const e of await listAgentEntries(ws)) rows.set(e.id, { ...e, state: 'not started' });
    // Another runtime's agents are its to start and stop.
    for (const r of loom.agents.current.filter((row) => !row.remote))
      rows.set(r.id, {
        id: r.id,
        source: r.entry?.source ?? 'config',
        script: r.entry?.script,
        state: r.info?.state ?? 'not started',
      });
    const wanted = agentIdOf(arg);
    if (wanted) return rows.get(wanted) ?? { id: wanted, source: 'config', state: 'unknown' };
    const candidates = [...rows.values()].filter(filter);
    if (!candidates.length)
      throw new Error(`no agents to choose from: declare one in loom.toml or add agents/<name>.py (Loom: New Agent)`);
    const picked = await vscode.window.showQuickPick(
      candidates.map((e) => ({
        label: e.id,
        description: e.state,
        detail:
          e.source === 'script'
            ? `${e.script} (not in loom.toml: the runtime runs it for this window)`
            : 'declared in loom.toml',
        entry: e,
      })),
      { placeHolder, title: 'Loom' },
    );
    return picked?.entry;
  }

  async function controlAgent(arg: AgentArg, action: 'start' | 'stop' | 'restart'): Promise<unknown> {
    if (action !== 'stop' && !loom.trusted) throw new UntrustedError(`cannot ${action} an agent`);
    const entry = await pickAgent(arg, `Agent to ${action}`);
    if (!entry) return undefined;
    if (entry.source === 'script') {
      await loom.controlScript(entry, action);
      await loom.refresh();
      return { agentId: entry.id, action };
    }
    const session = await loom.ensureRuntime();
    const info = await session.conn.controlAgent(entry.id, action);
    await loom.refresh();
    vscode.window.setStatusBarMessage(`Loom: ${action} ${entry.id}`, 3000);
    return info;
  }

  /** Publishes hotkey.<name> and says in the status bar who hears it: a key that nobody listens to is not silent. */
  async function publishHotkey(name: string): Promise<{ topic: string; listeners: string[]; message: string }> {
    if (!HOTKEY_NAME.test(name)) throw new Error(`hotkey name "${name}" must be 1–64 letters, digits, "_" or "-"`);
    const session = await loom.ensureRuntime();
    const topic = `hotkey.${name}`;
    session.conn.publish(topic, 'hotkey', { name, ...editorContext() });
    const listeners = await listenersOf(session.conn, topic).catch(() => undefined);
    const message =
      listeners === undefined
        ? `Loom: sent ${topic}`
        : listeners.length === 0
          ? `Loom: no agent listens to ${topic} — see Loom: New Agent`
          : `Loom: sent ${topic} to ${listeners.join(', ')}`;
    vscode.window.setStatusBarMessage(message, HOTKEY_MESSAGE_MS);
    return { topic, listeners: listeners ?? [], message };
  }

  async function callTool(args?: {
    name?: string;
    arguments?: unknown;
    timeoutMs?: number;
  }): Promise<CallToolResult | undefined> {
    const session = await loom.ensureRuntime();
    let name = args?.name;
    const interactive = args?.arguments === undefined;
    if (!name) {
      const tools = await session.conn.listTools();
      const picked = await vscode.window.showQuickPick(
        tools.map((t) => ({ label: t.name, detail: t.description })),
        { placeHolder: 'Tool to call', matchOnDetail: true, title: 'Loom: Call Tool' },
      );
      if (!picked) return undefined;
      name = picked.label;
    }
    let toolArgs = args?.arguments;
    if (toolArgs === undefined) {
      const text = await askText({
        title: `Loom: arguments for ${name}`,
        prompt: 'A JSON object',
        value: '{}',
        validateInput: (v) => {
          try {
            const parsed: unknown = JSON.parse(v);
            return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
              ? undefined
              : 'the arguments must be a JSON object';
          } catch (err) {
            return `not JSON: ${messageOf(err)}`;
          }
        },
      });
      if (text === undefined) return undefined;
      toolArgs = JSON.parse(text);
    }
    const res = await session.conn.callTool(name, toolArgs, args?.timeoutMs);
    const result: CallToolResult =
      res.status === 'TOOL_OK'
        ? { status: 'TOOL_OK', output: res.output ? (JSON.parse(res.output) as unknown) : null }
        : { status: String(res.status), error: { code: res.error?.code ?? '', message: res.error?.message ?? '' } };
    loom.log.info(`called ${name}: ${result.status}`);
    if (interactive) {
      const doc = await vscode.workspace.openTextDocument({
        language: 'json',
        content: JSON.stringify({ tool: name, arguments: toolArgs, ...result }, null, 2),
      });
      await vscode.window.showTextDocument(doc, { preview: true });
    }
    return result;
  }

  async function setApiKey(args?: { name?: string; value?: string }): Promise<{ name: string } | undefined> {
    let name = args?.name;
    if (!name) {
      const custom = 'Another name…';
      const picked = await vscode.window.showQuickPick([...SUGGESTED_KEYS, custom], {
        placeHolder: 'Environment variable the agents read the key from',
        title: 'Loom: Set API Key',
      });
      if (!picked) return undefined;
      name =
        picked === custom
          ? await askText({
              prompt: 'Variable name',
              validateInput: secretNameProblem,
            })
          : picked;
      if (!name) return undefined;
    }
    const value =
      args?.value ??
      (await askText({
        prompt: `Value of ${name} (kept in VS Code's secret storage)`,
        password: true,
        ignoreFocusOut: true,
      }));
    if (!value) return undefined;
    await loom.apiKeys.set(name, value);
    loom.log.info(`stored ${name} in secret storage`);
    if (loom.state === 'running' && !args?.value) {
      void notify(
        'info',
        `Loom: ${name} stored. Agents started from now on get it; restart the runtime to hand it to running agents.`,
        'Restart Runtime',
      ).then((a) => a && loom.restart());
    }
    return { name };
  }

  async function newAgent(args?: {
    name?: string;
    open?: boolean;
  }): Promise<{ id: string; script: string } | undefined> {
    const ws = loom.workspace;
    if (!ws) throw new Error('open a folder first');
    const id =
      args?.name ??
      (await askText({
        prompt: 'Agent id (also its file name under agents/)',
        placeHolder: 'my_agent',
        validateInput: (v) =>
          AGENT_ID_PATTERN.test(v) ? undefined : 'lower case letters, digits and underscores, starting with a letter',
      }));
    if (!id) return undefined;
    const { script } = scaffoldAgent(ws, id);
    if (args?.open !== false) await vscode.window.showTextDocument(vscode.Uri.file(script));
    await loom.refresh();
    return { id, script: workspaceRelative(vscode.Uri.file(script)) };
  }

  /** An empty folder to a running agent: loom.toml, agents/hello.py (started by the runtime), the runtime. */
  async function initWorkspace(): Promise<{ created: string[]; agent?: string }> {
    const ws = loom.workspace;
    if (!ws) throw new Error('open a folder first (File > Open Folder)');
    const config = join(ws, 'loom.toml');
    if (existsSync(config)) {
      void notify('info', 'Loom: this workspace already has a loom.toml.', 'Open loom.toml').then(
        (a) => a && vscode.window.showTextDocument(vscode.Uri.file(config)),
      );
      return { created: [] };
    }
    writeFileSync(config, STARTER_CONFIG, { flag: 'wx' });
    let id = 'hello';
    for (let n = 2; existsSync(join(ws, 'agents', `${id}.py`)); n++) id = `hello_${n}`;
    const { script } = scaffoldAgent(ws, id, { autostart: true });
    loom.configChanged();
    await vscode.window.showTextDocument(vscode.Uri.file(config), { preview: false });
    const created = ['loom.toml', workspaceRelative(vscode.Uri.file(script))];
    if (!loom.trusted) {
      void notify(
        'warning',
        'Loom: created loom.toml and a sample agent. Trust this workspace to run agents.',
        'Manage Workspace Trust',
      ).then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
      return { created, agent: id };
    }
    await loom.start();
    return { created, agent: id };
  }

  return [
    command('loom.initWorkspace', () => initWorkspace()),
    command('loom.installSdk', (args?: { python?: string }) => loom.installSdk(args?.python)),
    command('loom.startRuntime', async () => {
      await loom.start();
      return loom.api.runtime;
    }),
    command('loom.stopRuntime', () => loom.stop()),
    command('loom.restartRuntime', async () => {
      await loom.restart();
      return loom.api.runtime;
    }),
    command('loom.startAgent', (arg?: AgentArg) => controlAgent(arg, 'start')),
    command('loom.stopAgent', (arg?: AgentArg) => controlAgent(arg, 'stop')),
    command('loom.restartAgent', (arg?: AgentArg) => controlAgent(arg, 'restart')),
    command('loom.showAgentLogs', async (arg?: AgentArg) => {
      const entry = await pickAgent(arg, 'Agent whose output to show');
      if (!entry) return undefined;
      if (!loom.hasAgentLog(entry.id))
        await loom
          .backfillAgentLog(entry.id)
          .catch((err: Error) => loom.log.warn(`agents:logs ${entry.id}: ${err.message}`));
      loom.agentLog(entry.id).show();
      return entry?.id;
    }),
    command('loom.showRuntimeLog', async () => loom.runtimeLog.show()),
    command('loom.openDashboard', async () => {
      openDashboard(loom);
    }),
    command('loom.hotkey', (args?: { name?: string }) => publishHotkey(args?.name ?? 'default')),
    command('loom.emitHotkey', async (args?: { name?: string }) => {
      const name =
        args?.name ??
        (await askText({
          prompt: 'Hotkey name: publishes hotkey.<name>',
          value: 'default',
          validateInput: (v) => (HOTKEY_NAME.test(v) ? undefined : 'letters, digits, "_" or "-"'),
        }));
      return name ? publishHotkey(name) : undefined;
    }),
    command('loom.sendSelection', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) throw new Error('no editor is active: select some text first');
      if (!relevant(editor.document)) {
        const where =
          editor.document.uri.scheme === 'file' ? editor.document.uri.fsPath : editor.document.uri.toString(true);
        const send: vscode.MessageItem = { title: 'Send' };
        const answer = await askModal(
          'warning',
          `The selection is from ${where}, outside the workspace folders. Send it to the agents?`,
          'Every agent that subscribes to editor.selection.sent receives it.',
          { title: 'Cancel', isCloseAffordance: true },
          send,
        );
        if (answer !== send) return undefined;
      }
      const session = await loom.ensureRuntime();
      session.conn.publish('editor.selection.sent', 'editor.selection.sent', describeSelection(editor));
      vscode.window.setStatusBarMessage('Loom: selection sent to agents', 3000);
      return { topic: 'editor.selection.sent' };
    }),
    command('loom.callTool', (args?: { name?: string; arguments?: unknown; timeoutMs?: number }) => callTool(args)),
    command('loom.newAgent', (args?: { name?: string; open?: boolean }) => newAgent(args)),
    command('loom.setApiKey', (args?: { name?: string; value?: string }) => setApiKey(args)),
    command('loom.refresh', () => loom.refresh()),
  ];
}
