// `${input:id}` in MCP server configs (VS Code's inputs): answered once by the person, kept in
// SecretStorage, and handed to the runtime it launches as LOOM_INPUT_<ID>, which the runtime reads
// when it expands the reference. Values are never logged, nor written anywhere but SecretStorage.
import { checkLoomToml, inputVariable } from '../../runtime/contract';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import JSON5 from 'json5';
import type * as vscode from 'vscode';
import type { McpUi } from './ui';
import { messageOf } from '../../runtime/contract';

export interface InputSpec {
  id: string;
  description?: string;
  password: boolean;
  /** Where it is referenced, for the prompt and messages: "mcp.github.env.TOKEN". */
  usedBy: string[];
}

export interface NeededInputs {
  inputs: InputSpec[];
  /** Things that keep an input from being asked for, each naming the file and key. */
  problems: string[];
}

const INPUT_REFERENCE = /\$\{input:([^}]+)\}/g;
const NOT_SERVERS = new Set(['settings', 'serve']);

/** The environment variable the runtime reads for `${input:id}` (the runtime's own naming). */
export const inputEnvName = inputVariable;

/** Every `${input:id}` in a value (strings inside objects and arrays too), with the key it sits at. */
export function inputReferences(
  value: unknown,
  key: string,
  into: Map<string, string[]> = new Map(),
): Map<string, string[]> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(INPUT_REFERENCE)) into.set(m[1], [...(into.get(m[1]) ?? []), key]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => inputReferences(v, `${key}[${i}]`, into));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) inputReferences(v, `${key}.${k}`, into);
  }
  return into;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** References of the servers in one `servers`/`[mcp]` table that will run (`enabled = false` ones do not). */
function serverReferences(
  servers: Record<string, unknown>,
  skip: (name: string) => boolean,
  into: Map<string, string[]>,
): void {
  for (const [name, server] of Object.entries(servers)) {
    if (skip(name) || !isTable(server) || server.enabled === false) continue;
    inputReferences(server, `mcp.${name}`, into);
  }
}

/**
 * The inputs the workspace's MCP servers need: those referenced in loom.toml's `[mcp.<name>]`
 * tables, and, when `[mcp.settings] import_vscode = true`, in `.vscode/mcp.json`'s servers.
 * Descriptions and `password` come from `.vscode/mcp.json`'s "inputs" (VS Code's promptString);
 * an input declared nowhere is asked for as a password, which is the safe guess for a secret.
 */
export async function neededInputs(workspace: string): Promise<NeededInputs> {
  const problems: string[] = [];
  const refs = new Map<string, string[]>();
  let mcp: Record<string, unknown> = {};
  // loom.toml read as the runtime reads it (the contract's check); a file it cannot parse has no servers.
  const { file, problems: tomlProblems } = await checkLoomToml(workspace);
  const syntax = tomlProblems.find((p) => !p.key);
  if (syntax) problems.push(`loom.toml: ${syntax.message}`);
  if (isTable(file.mcp)) mcp = file.mcp;
  serverReferences(mcp, (name) => NOT_SERVERS.has(name), refs);
  const importVscode = isTable(mcp.settings) && mcp.settings.import_vscode === true;

  let declared: unknown[] = [];
  const jsonFile = join(workspace, '.vscode', 'mcp.json');
  if (existsSync(jsonFile)) {
    try {
      const doc = JSON5.parse(readFileSync(jsonFile, 'utf8')) as unknown;
      if (isTable(doc)) {
        if (Array.isArray(doc.inputs)) declared = doc.inputs;
        // loom.toml's entry of the same name wins, as in the runtime's import.
        if (importVscode && isTable(doc.servers)) serverReferences(doc.servers, (name) => name in mcp, refs);
      }
    } catch (err) {
      problems.push(`.vscode/mcp.json: ${messageOf(err)}`);
    }
  }

  const specs = new Map<string, { description?: string; password: boolean; type: unknown }>();
  for (const [i, d] of declared.entries()) {
    if (!isTable(d) || typeof d.id !== 'string') {
      problems.push(`.vscode/mcp.json: inputs[${i}] has no "id"`);
      continue;
    }
    specs.set(d.id, {
      description: typeof d.description === 'string' ? d.description : undefined,
      password: d.password === true,
      type: d.type,
    });
  }

  const inputs: InputSpec[] = [];
  for (const [id, usedBy] of refs) {
    const spec = specs.get(id);
    if (spec && spec.type !== undefined && spec.type !== 'promptString') {
      problems.push(
        `.vscode/mcp.json: input "${id}" has type ${JSON.stringify(spec.type)}; Loom asks only for promptString inputs (set ${inputEnvName(id)} in the environment instead)`,
      );
      continue;
    }
    inputs.push({ id, description: spec?.description, password: spec ? spec.password : true, usedBy });
  }
  return { inputs, problems };
}

const INDEX_KEY = 'loom.mcpInputs';

/** The answers for one workspace: SecretStorage holds the values, the workspace's Memento their ids. */
export class McpInputs {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly index: vscode.Memento,
    private readonly ui: McpUi,
    private readonly log: (message: string) => void,
  ) {}

  private key(workspace: string, id: string): string {
    // SecretStorage is shared by every workspace; two projects may both call their token "token".
    const ws = createHash('sha256').update(workspace).digest('hex').slice(0, 16);
    return `loom.mcpInput.${ws}.${id}`;
  }

  private ids(): string[] {
    return this.index.get<string[]>(INDEX_KEY, []);
  }

  async store(workspace: string, id: string, value: string): Promise<void> {
    await this.secrets.store(this.key(workspace, id), value);
    await this.index.update(INDEX_KEY, [...new Set([...this.ids(), id])].sort());
  }

  /**
   * LOOM_INPUT_<ID> for every input the workspace's MCP servers need: from SecretStorage, else
   * asked for once and stored. An input already in the environment is left to it; one the person
   * dismisses is left out (that server then fails, naming the reference).
   */
  async environment(workspace: string, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
    const { inputs, problems } = await neededInputs(workspace);
    for (const p of problems) this.log(p);
    const out: Record<string, string> = {};
    for (const input of inputs) {
      const name = inputEnvName(input.id);
      if (env[name] !== undefined) continue;
      let value = await this.secrets.get(this.key(workspace, input.id));
      if (value === undefined) {
        value = await this.ui.input({
          title: `Loom: MCP input "${input.id}"`,
          prompt: `${input.description ?? `A value for \${input:${input.id}}`} (used by ${input.usedBy.join(', ')}; kept in VS Code's secret storage)`,
          password: input.password,
        });
        if (value === undefined) {
          this.log(`MCP input "${input.id}" was not given; ${input.usedBy.join(', ')} cannot be expanded`);
          continue;
        }
        await this.store(workspace, input.id, value);
        this.log(`MCP input "${input.id}" stored in secret storage`);
      }
      out[name] = value;
    }
    return out;
  }

  /** Forgets every stored answer of this workspace; returns how many there were. */
  async clear(workspace: string): Promise<number> {
    const ids = this.ids();
    for (const id of ids) await this.secrets.delete(this.key(workspace, id));
    await this.index.update(INDEX_KEY, []);
    return ids.length;
  }
}
