// Everything that lives exactly as long as one runtime connection: the runtime handle (launched
// or attached), the window's gRPC link, and what hangs on them (the editor event sources, the
// runtime's output in the channel). Disposed on Stop, Restart, a lost link, or shutdown.
import type * as vscode from 'vscode';
import type { RuntimeConnection } from '../bridge/client';
import { Disposer } from '../disposer';
import type { RuntimeHandle } from '../runtime/launcher';
import type { ClusterFacts } from '../views/clusterText';
import type { IsolationFacts } from '../views/isolationText';

export class RuntimeSession extends Disposer {
  /**
   * How the runtime confines system:shell (GetStats, read once: it is fixed for the runtime's
   * life); null from a runtime that does not say.
   */
  isolation: IsolationFacts | null = null;
  /** The runtime's cluster health (GetStats at connect, then its cluster.health events); null without [cluster]. */
  cluster: ClusterFacts | null = null;
  /** The editor event sources, made again when their settings change. */
  editorEvents: vscode.Disposable | undefined;
  /** loom.toml sections whose restart was last offered for this runtime (each save reports them all again). */
  offeredSections = '';

  constructor(
    readonly handle: RuntimeHandle,
    readonly conn: RuntimeConnection,
  ) {
    super();
    this.add({ dispose: () => this.editorEvents?.dispose() });
  }
}
