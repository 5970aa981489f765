// The runtime's own tools: the reference's built-ins (fs, system:shell, weather:get, web:search,
// llm:generate) with answers that carry the reference's keys beside Loom's. The reference's names
// (fs:read_file, fs:write_file, fs:list_dir) are aliases of the same handlers so a reference agent
// finds what it expects (the one map is ../aliases.ts; kinds and the MCP serve policy read it too,
// so an alias is judged as its tool).
import path from 'node:path';
import type { LoomConfig } from '../../config';
import type { Logger } from '../../log';
import { ALIASES } from '../../contract/toolNames';
import { ConfinedFs } from '../fsat';
import { isolationStatusAsync, type IsolationStatus } from '../isolation';
import { Sandbox } from '../sandbox';
import type { Disposable, ToolDefinition, ToolHandler, ToolRegistry } from '../types';
import { type ConfirmFn, fsTools } from './fs';
import { llmDefinition, llmHandler } from './llm';
import { shellDefinition, shellHandler } from './shell';
import { presetPrograms } from './shell-presets';
import { weatherDefinition, weatherHandler } from './weather';
import { webSearchDefinition, webSearchHandler } from './web-search';

import { BUILTIN_OWNER } from '../namespaces';

export { BUILTIN_OWNER };

export type { ConfirmFn } from './fs';

export interface BuiltinToolOptions {
  /** Asks a person (the VS Code window) where a policy says "ask": tools.fs.protected_writes. None: "ask" refuses. */
  confirm?: ConfirmFn;
}

/** Interpreters and launchers run arbitrary code; allowing one makes the allowlist moot. (sed runs with --sandbox: shell-policy.ts.) */
const CODE_RUNNERS = [
  'sh',
  'bash',
  'zsh',
  'dash',
  'fish',
  'python',
  'python3',
  'node',
  'perl',
  'ruby',
  'php',
  'lua',
  'deno',
  'bun',
  'npx',
  'npm',
  'env',
  'make',
  'awk',
];

/**
 * Argument defaults an alias has of its own, where the reference's tool behaves differently by
 * default: its fs:write_file creates missing parent folders.
 */
const ALIAS_DEFAULTS: Record<string, Record<string, unknown>> = { 'fs:write_file': { create_dirs: true } };

export function registerBuiltinTools(
  registry: ToolRegistry,
  config: LoomConfig,
  log: Logger,
  options: BuiltinToolOptions = {},
): Disposable {
  const sandbox = Sandbox.fromConfig(config, log);
  // The file tools walk from held directories (no check-then-use of a path string); the sandbox's
  // string checks remain for system:shell's arguments and working directory.
  const files = new ConfinedFs({
    roots: sandbox.roots,
    dataPath: path.resolve(config.workspace, config.runtime.dataDir),
  });
  if (!files.viaProc)
    log.warn(
      'no /proc/self/fd: file tools check each path component and then use it (a folder swapped for a symlink at that moment is not caught); rely on OS isolation here',
    );
  const tools: Array<{ definition: Omit<ToolDefinition, 'provider' | 'owner'>; handler: ToolHandler }> = [
    ...fsTools(files, {
      maxReadBytes: config.tools.fs.maxReadBytes,
      protectedWrites: config.tools.fs.protectedWrites,
      confirm: options.confirm,
    }),
    { definition: shellDefinition, handler: shellHandler(config, sandbox) },
    { definition: weatherDefinition, handler: weatherHandler(config.tools.weather.baseUrl) },
    { definition: webSearchDefinition, handler: webSearchHandler(config.tools.webSearch) },
    { definition: llmDefinition, handler: llmHandler({ provider: config.tools.llm.provider, tables: config.llm }) },
  ];
  for (const [alias, target] of Object.entries(ALIASES)) {
    const tool = tools.find((t) => t.definition.name === target)!;
    const defaults = ALIAS_DEFAULTS[alias];
    const parametersSchema = defaults
      ? withDefaults(tool.definition.parametersSchema, defaults)
      : tool.definition.parametersSchema;
    const differs = defaults
      ? `; by default ${Object.entries(defaults)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join(', ')}`
      : '';
    tools.push({
      definition: {
        ...tool.definition,
        name: alias,
        parametersSchema,
        description: `${tool.definition.description} (same as ${target}${differs})`,
      },
      handler: tool.handler,
    });
  }

  const runners = config.tools.shell.allow.filter((c) => CODE_RUNNERS.includes(c));
  if (runners.length) log.warn('tools.shell.allow lets agents run arbitrary code', { programs: runners });
  if (!config.runtime.trusted) log.info('untrusted workspace: system:shell answers "denied"');
  else reportIsolation(config, log);

  // Their schemas are Loom's own: compiled at a tool's first call, not at start (registry.ts).
  const registrations = tools.map((t) =>
    registry.register({ ...t.definition, provider: 'native', owner: BUILTIN_OWNER }, t.handler, {
      trustedSchema: true,
    }),
  );
  log.debug('built-in tools registered', { roots: sandbox.roots, count: registrations.length });
  return {
    dispose: () => {
      registrations.forEach((r) => r.dispose());
      files.close();
    },
  };
}

/** A copy of an object schema whose properties named in `defaults` default to the values given. */
function withDefaults(schema: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  const properties = { ...(schema.properties as Record<string, Record<string, unknown>>) };
  for (const [key, value] of Object.entries(defaults)) properties[key] = { ...properties[key], default: value };
  return { ...schema, properties };
}

/** Said once at start, so an operator sees why system:shell would refuse before an agent finds out. */
function reportIsolation(config: LoomConfig, log: Logger): void {
  const { isolation: mode, preset } = config.tools.shell;
  const presetIdle = `tools.shell.preset = "${preset}" adds nothing: its programs run only under OS isolation`;
  if (mode === 'off') {
    log.warn('tools.shell.isolation = "off": system:shell runs programs unconfined (argument rules only)');
    if (preset !== 'none') log.warn(`${presetIdle}, which is off`);
    return;
  }
  // Probed in the background: the runtime serves meanwhile, and a shell call that comes first
  // probes (synchronously) itself.
  void isolationStatusAsync(mode).then((status) => reportStatus(config, log, status));
}

function reportStatus(config: LoomConfig, log: Logger, status: IsolationStatus): void {
  const { isolation: mode, preset } = config.tools.shell;
  const presetIdle = `tools.shell.preset = "${preset}" adds nothing: its programs run only under OS isolation`;
  if (status.available)
    log.info('system:shell runs under OS isolation', {
      mechanism: status.mechanism,
      bwrap: status.detail,
      network: config.tools.shell.network,
      preset,
      presetPrograms: presetPrograms(preset).length,
    });
  else if (mode === 'required')
    log.warn('system:shell will refuse every call: OS isolation is required (tools.shell.isolation) and unavailable', {
      missing: status.detail,
    });
  else
    log.warn('system:shell runs unconfined: OS isolation is unavailable (tools.shell.isolation = "best-effort")', {
      missing: status.detail,
    });
  if (!status.available && preset !== 'none')
    log.warn(`${presetIdle}, which is unavailable`, { missing: status.detail });
}
