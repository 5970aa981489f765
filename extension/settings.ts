// Typed access to the `loom.*` settings. Every key here is declared (with its documentation)
// under contributes.configuration in package.json; a test checks the two agree.
import * as vscode from 'vscode';

export const SECTION = 'loom';

export interface QueueSizes {
  realtime: number;
  batched: number;
  background: number;
}

export interface LoomSettings {
  runtimePort: number;
  autoStart: boolean;
  keepAlive: boolean;
  pythonPath: string;
  shellAllow: string[];
  watcherInclude: string[];
  queueSizes: QueueSizes | undefined;
  changeDebounceMs: number;
  selectionDebounceMs: number;
  sendFullText: boolean;
  cluster: ClusterSettings;
}

/** loom.cluster.*: laid over loom.toml's [cluster] by the runtime (runtime/contract/configOverrides.ts). */
export interface ClusterSettings {
  servers: string[];
  node: string;
  namespace: string;
  share: string[] | null;
  shareRealtime: string[] | null;
  offerTools: string[] | null;
  credsFile: string;
  /** The name of a stored secret (Loom: Set API Key) that holds the NATS token. */
  tokenSecret: string;
}

/** The keys below, each as `loom.<key>`; used by the manifest test. */
export const SETTING_KEYS = [
  'runtime.port',
  'runtime.autoStart',
  'runtime.keepAlive',
  'pythonPath',
  'shell.allow',
  'watcher.include',
  'bus.queueSizes',
  'editor.changeDebounceMs',
  'editor.selectionDebounceMs',
  'editor.sendFullText',
  'cluster.servers',
  'cluster.node',
  'cluster.namespace',
  'cluster.share',
  'cluster.shareRealtime',
  'cluster.offerTools',
  'cluster.credsFile',
  'cluster.tokenSecret',
] as const;

export function readSettings(scope?: vscode.ConfigurationScope): LoomSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    runtimePort: c.get<number>('runtime.port', 0),
    autoStart: c.get<boolean>('runtime.autoStart', true),
    keepAlive: c.get<boolean>('runtime.keepAlive', false),
    pythonPath: c.get<string>('pythonPath', ''),
    shellAllow: c.get<string[]>('shell.allow', []),
    watcherInclude: c.get<string[]>('watcher.include', []),
    queueSizes: c.get<QueueSizes>('bus.queueSizes'),
    changeDebounceMs: c.get<number>('editor.changeDebounceMs', 500),
    selectionDebounceMs: c.get<number>('editor.selectionDebounceMs', 300),
    sendFullText: c.get<boolean>('editor.sendFullText', false),
    cluster: {
      servers: c.get<string[]>('cluster.servers', []),
      node: c.get<string>('cluster.node', ''),
      namespace: c.get<string>('cluster.namespace', ''),
      share: c.get<string[] | null>('cluster.share', null),
      shareRealtime: c.get<string[] | null>('cluster.shareRealtime', null),
      offerTools: c.get<string[] | null>('cluster.offerTools', null),
      credsFile: c.get<string>('cluster.credsFile', ''),
      tokenSecret: c.get<string>('cluster.tokenSecret', ''),
    },
  };
}

/**
 * The interpreter agents run with: the setting, else the Python extension's selected
 * interpreter when that extension is installed, else python3.
 */
export async function resolvePython(settings: LoomSettings, folder: vscode.Uri | undefined): Promise<string> {
  if (settings.pythonPath) return settings.pythonPath;
  const python = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (python) {
    try {
      const api = python.isActive ? python.exports : await python.activate();
      const env = api?.environments?.getActiveEnvironmentPath(folder);
      if (env?.path) return env.path;
    } catch {
      // the Python extension failed to answer: fall back like it was not there
    }
  }
  return 'python3';
}

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined };
}
