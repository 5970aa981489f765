// LLM API keys live in VS Code's SecretStorage, never in settings or files; spawned agents get
// them as environment variables (the runtime passes its environment on to the agents).
import type * as vscode from 'vscode';

const INDEX_KEY = 'loom.apiKeys';
export const ENV_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,127}$/;
/**
 * The names a secret may have. The runtime and its agents get every stored one in their
 * environment, so a name like NODE_OPTIONS, LD_PRELOAD or PYTHONPATH would change what they run
 * (an agent's link to this command took the runtime that way); LOOM_ names are the runtime's own.
 */
const SECRET_NAME = /_(API_KEY|KEY|TOKEN|SECRET|PASSWORD)$/;

/** Why `name` cannot name a secret, or undefined. */
export function secretNameProblem(name: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name))
    return `"${name}" is not an environment variable name (upper case letters, digits, underscores)`;
  if (name.startsWith('LOOM_') || !SECRET_NAME.test(name))
    return `"${name}" is not a name for a secret: it must end in _KEY, _TOKEN, _SECRET or _PASSWORD and not start with LOOM_ (such as OPENAI_API_KEY or NATS_TOKEN), since the runtime and its agents get it in their environment`;
  return undefined;
}
export const SUGGESTED_KEYS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'DEEPSEEK_API_KEY', 'GEMINI_API_KEY'];

export class ApiKeys {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
  ) {}

  names(): string[] {
    return this.state.get<string[]>(INDEX_KEY, []);
  }

  async set(name: string, value: string): Promise<void> {
    const problem = secretNameProblem(name);
    if (problem) throw new Error(problem);
    if (!value) throw new Error(`the value for ${name} is empty`);
    await this.secrets.store(`loom.apiKey.${name}`, value);
    const names = new Set(this.names());
    names.add(name);
    await this.state.update(INDEX_KEY, [...names].sort());
  }

  async delete(name: string): Promise<void> {
    await this.secrets.delete(`loom.apiKey.${name}`);
    await this.state.update(
      INDEX_KEY,
      this.names().filter((n) => n !== name),
    );
  }

  /** Every stored key as NAME=value, for the runtime's environment. */
  async environment(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of this.names()) {
      if (secretNameProblem(name)) continue; // stored before the names were limited
      const value = await this.secrets.get(`loom.apiKey.${name}`);
      if (value) env[name] = value;
    }
    return env;
  }
}
