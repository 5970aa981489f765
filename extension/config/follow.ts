// The window follows its configuration: loom.toml appearing, changing and being saved (its
// problems in the Problems panel; a valid file after a failed start starts the runtime), the
// runtime's reload report, and `loom.*` settings. What applies at once is applied; what needs
// a runtime restart gets one offer per burst of changes, naming all of them.
import { watch } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { notify } from '../notify';
import { messageOf } from '../../runtime/contract';
import type { RuntimeSession } from '../session/session';
import { classifySettingChange } from '../settingsApply';
import type { ConfigDiagnostics } from './diagnostics';
import { restartSections } from './reloadOutcome';

/** Changes this close together make one restart offer. */
const RESTART_OFFER_DEBOUNCE_MS = 500;

export interface ConfigFollowHost {
  readonly workspace: string | undefined;
  readonly log: vscode.LogOutputChannel;
  readonly configDiagnostics: ConfigDiagnostics;
  readonly session: RuntimeSession | undefined;
  /** The last start failed on loom.toml's problems. */
  readonly configBroken: boolean;
  start(): Promise<unknown>;
  restart(): Promise<unknown>;
  /** loom.toml may have appeared or gone. */
  configChanged(): void;
  refreshSoon(): void;
  /** Makes the session's editor event sources again, with the current settings. */
  watchEditor(session: RuntimeSession): void;
}

export class ConfigFollower implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** What needs a runtime restart, gathered over a burst of changes: one offer for the burst. */
  private readonly restartItems = new Set<string>();
  private restartOfferTimer: NodeJS.Timeout | undefined;
  /** The runtime session the pending burst of changes was made under. */
  private restartBurstSession: RuntimeSession | undefined;
  /** The restart offers shown, oldest first (read by the tests through the API). */
  readonly restartOffers: string[] = [];

  constructor(private readonly host: ConfigFollowHost) {
    const root = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    if (root) {
      // The folder, not the file (as the runtime's follower): a file replaced or renamed away and
      // back is no longer reliably reported by a watch on its own path.
      try {
        const watcher = watch(root.uri.fsPath, (_event, name) => {
          if (name !== 'loom.toml') return;
          host.configChanged();
          host.refreshSoon();
        });
        watcher.on('error', () => watcher.close());
        this.disposables.push({ dispose: () => watcher.close() });
      } catch (err) {
        host.log.warn(`cannot watch ${root.uri.fsPath} for loom.toml: ${messageOf(err)}`);
      }
    }
    this.disposables.push(
      vscode.workspace.onDidSaveTextDocument((doc) => void this.onSaved(doc)),
      vscode.workspace.onDidChangeConfiguration((e) => this.onSettingsChanged(e)),
      { dispose: () => clearTimeout(this.restartOfferTimer) },
    );
  }

  /** loom.toml saved: its problems go to the Problems panel; a valid file after a failed start starts the runtime. */
  private async onSaved(doc: vscode.TextDocument): Promise<void> {
    const ws = this.host.workspace;
    if (!ws || doc.uri.fsPath !== join(ws, 'loom.toml')) return;
    const valid = await this.host.configDiagnostics.check(ws).catch(() => false);
    if (valid && this.host.configBroken && !this.host.session) {
      this.host.log.info('loom.toml is valid again: starting the runtime');
      await this.host.start().catch(() => undefined);
    }
  }

  /** Settings the extension reads itself apply now; those a runtime gets at launch get a restart offer. */
  private onSettingsChanged(e: vscode.ConfigurationChangeEvent): void {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const { restart, live } = classifySettingChange((section) => e.affectsConfiguration(section, folder));
    const session = this.host.session;
    if (session && live.some((k) => k.startsWith('loom.editor.'))) {
      this.host.watchEditor(session);
      this.host.log.info(`applied ${live.join(', ')}`);
    }
    if (restart.length && session) this.offerRestart(restart);
  }

  /** The runtime reloaded loom.toml: the views follow; sections it applies only after a restart get an offer. */
  onConfigReloaded(payload: Buffer): void {
    this.host.refreshSoon();
    const session = this.host.session;
    const sections = restartSections(payload);
    if (!sections || !session) return;
    const key = [...sections].sort().join(',');
    if (!sections.length || key === session.offeredSections) return;
    session.offeredSections = key;
    this.offerRestart(sections.map((s) => `loom.toml [${s}]`));
  }

  /** One "restart to apply" notification per burst of changes, naming all of them. */
  private offerRestart(items: string[]): void {
    // A runtime (re)started after the changes already has them: the burst belongs to this session.
    if (this.restartBurstSession !== this.host.session) this.restartItems.clear();
    this.restartBurstSession = this.host.session;
    for (const item of items) this.restartItems.add(item);
    clearTimeout(this.restartOfferTimer);
    this.restartOfferTimer = setTimeout(() => {
      this.restartOfferTimer = undefined;
      const what = [...this.restartItems];
      this.restartItems.clear();
      if (!this.host.session || this.host.session !== this.restartBurstSession || !what.length) return;
      const message = `Restart the Loom runtime to apply ${what.join(', ')}?`;
      this.restartOffers.push(message);
      this.host.log.info(`${what.join(', ')} changed: applies after a runtime restart`);
      void notify('info', message, 'Restart').then((choice) => {
        if (choice === 'Restart') void this.host.restart().catch(() => undefined);
      });
    }, RESTART_OFFER_DEBOUNCE_MS);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
