// The dashboard inside VS Code: one WebviewPanel showing webview/ (the same UI the headless
// runtime serves), fed by Runtime.Feed over this window's gRPC connection, acting through the
// runtime's admin calls, and restored after a reload by a WebviewPanelSerializer.
//
// The feed runs only while the panel is visible and its page is ready: a hidden panel costs the
// runtime and the extension host nothing. The page itself is kept while hidden
// (retainContextWhenHidden) because the metric history of the last minutes lives there; when the
// panel shows again the feed resumes, and since every update carries cumulative totals the
// figures are right at once (events published while it was hidden are not replayed).
import * as vscode from 'vscode';
import type { FeedSubscription, RuntimeConnection } from '../bridge/client';
import type { Loom, RuntimeState } from '../loom';
import {
  FEED_BACKLOG,
  feedUpdateToWire,
  lastSeqOf,
  type ConnectionState,
  type DashboardAction,
  type HostMessage,
  type ProbeAnswer,
  type ProbeQuery,
  type UiMessage,
} from '../../runtime/contract';
import { runDashboardAction } from './actions';
import { dashboardHtml } from './html';

export { DASHBOARD_VIEW_TYPE } from '../ids';
import { DASHBOARD_VIEW_TYPE } from '../ids';
const TITLE = 'Loom Dashboard';
/** Pause before re-opening a feed the runtime ended while the connection itself stayed up. */
const FEED_RETRY_MS = 1000;
/** How long a test probe waits for the page's answer. */
const PROBE_WAIT_MS = 10_000;

/** What the dashboard shows, for tests (the extension's exports carry it). */
export interface DashboardApi {
  readonly open: boolean;
  readonly visible: boolean;
  /** Whether a Runtime.Feed stream is open for the panel (only while it is visible and its page ready). */
  readonly streaming: boolean;
  probe(query: ProbeQuery): Promise<ProbeAnswer>;
}

const NOT_RUNNING: Record<Exclude<RuntimeState, 'running'>, [ConnectionState, string]> = {
  starting: ['connecting', 'the runtime is starting'],
  reconnecting: ['connecting', 'the link to the runtime dropped; reconnecting'],
  stopping: ['lost', 'the runtime is stopping'],
  stopped: ['lost', 'the runtime is not running (Loom: Start Runtime)'],
  failed: ['lost', 'the runtime stopped (Loom: Restart Runtime)'],
};

export class DashboardPanel implements vscode.Disposable {
  /** At most one dashboard per window. */
  static current: DashboardPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private disposed = false;
  private feed: { conn: RuntimeConnection; sub: FeedSubscription } | undefined;
  /** The last event the page was sent, and from which runtime: a feed that starts again (the panel shows again) resumes after it. */
  private resume: { address: string; pid: number; seq: number } | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** A feed update the page has not taken yet: the next ones are skipped, as the runtime's own feed does for slow readers. */
  private posting = false;
  private shownConnection = '';
  private nextProbe = 1;
  private readonly probes = new Map<number, (answer: ProbeAnswer) => void>();

  /** Opens the dashboard, or brings the open one to the front. */
  static open(loom: Loom): DashboardPanel {
    const existing = DashboardPanel.current;
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, TITLE, vscode.ViewColumn.Active, {
      ...webviewOptions(loom),
      retainContextWhenHidden: true,
    });
    return new DashboardPanel(panel, loom);
  }

  /** Takes over a panel VS Code restored after a reload. */
  static restore(panel: vscode.WebviewPanel, loom: Loom): DashboardPanel {
    DashboardPanel.current?.dispose();
    return new DashboardPanel(panel, loom);
  }

  get streaming(): boolean {
    return this.feed !== undefined;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly loom: Loom,
  ) {
    DashboardPanel.current = this;
    panel.title = TITLE;
    panel.iconPath = vscode.Uri.joinPath(loom.context.extensionUri, 'extension', 'media', 'loom.svg');
    panel.webview.options = webviewOptions(loom);
    panel.webview.html = dashboardHtml(panel.webview, distUri(loom));
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => this.sync()),
      panel.webview.onDidReceiveMessage((m: UiMessage) => this.onMessage(m)),
      loom.api.onDidChangeState(() => this.sync()),
    );
  }

  private onMessage(m: UiMessage): void {
    switch (m?.kind) {
      case 'ready':
        // A new page (first load, or a webview reload): it knows nothing yet.
        this.ready = true;
        this.shownConnection = '';
        this.sync();
        return;
      case 'action':
        void this.act(m.requestId, m.action);
        return;
      case 'probeAnswer':
        this.probes.get(m.requestId)?.(m.answer);
        this.probes.delete(m.requestId);
        return;
      default:
        this.loom.log.warn(`dashboard: unknown message from the page: ${JSON.stringify(m).slice(0, 200)}`);
    }
  }

  /** Brings the feed in line with the panel and the runtime: one stream on the current connection while visible. */
  private sync(): void {
    if (this.disposed) return;
    clearTimeout(this.retry);
    const conn = this.loom.connection;
    const running = this.loom.state === 'running' && conn?.isOpen;
    const wanted = this.ready && this.panel.visible && running ? conn : undefined;
    if (this.feed && this.feed.conn !== wanted) {
      this.feed.sub.cancel();
      this.feed = undefined;
    }
    if (!this.ready) return;
    if (!running) {
      const state = this.loom.state;
      const [s, detail] = state === 'running' ? NOT_RUNNING.failed : NOT_RUNNING[state];
      this.showConnection(s, detail);
      return;
    }
    if (wanted && !this.feed) this.subscribe(wanted);
  }

  private subscribe(conn: RuntimeConnection): void {
    this.showConnection('connecting', `feed from ${conn.info.address}`);
    // Sequence numbers are a runtime's own: another runtime starts from the backlog as it is.
    const same = this.resume && this.resume.address === conn.info.address && this.resume.pid === conn.info.pid;
    const afterSeq = same ? this.resume!.seq : 0;
    let seq = afterSeq;
    const feed = {
      conn,
      sub: conn.feed(
        { backlog: FEED_BACKLOG, afterSeq },
        {
          onUpdate: (update) => {
            this.showConnection('connected');
            if (this.posting) return;
            seq = lastSeqOf(update, seq);
            this.resume = { address: conn.info.address, pid: conn.info.pid, seq };
            this.posting = true;
            void Promise.resolve(this.post({ kind: 'feed', update: feedUpdateToWire(update) })).finally(
              () => (this.posting = false),
            );
          },
          onEnd: (reason) => {
            if (this.feed !== feed) return;
            this.feed = undefined;
            this.loom.log.warn(`dashboard: ${reason}`);
            this.showConnection('lost', reason);
            // The connection itself may be going down too; if it is, the state change decides.
            this.retry = setTimeout(() => this.sync(), FEED_RETRY_MS);
          },
        },
      ),
    };
    this.feed = feed;
  }

  private showConnection(state: ConnectionState, detail?: string): void {
    const key = `${state}\n${detail ?? ''}`;
    if (key === this.shownConnection) return;
    this.shownConnection = key;
    void this.post({ kind: 'connection', state, detail });
  }

  private async act(requestId: number, action: DashboardAction): Promise<void> {
    const conn = this.loom.connection;
    const result = conn?.isOpen
      ? await runDashboardAction(conn, action)
      : { ok: false as const, error: NOT_RUNNING.stopped[1] };
    if (result.ok && action.type === 'agent') void this.loom.refresh();
    void this.post({ kind: 'actionResult', requestId, result });
  }

  private post(message: HostMessage): Thenable<boolean> {
    return this.disposed ? Promise.resolve(false) : this.panel.webview.postMessage(message);
  }

  /** Asks the page (see ProbeQuery); rejects when the page does not answer. */
  probe(query: ProbeQuery): Promise<ProbeAnswer> {
    const requestId = this.nextProbe++;
    return new Promise<ProbeAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(requestId);
        reject(
          new Error(
            `the dashboard page did not answer the "${query}" probe (ready: ${this.ready}, visible: ${this.panel.visible})`,
          ),
        );
      }, PROBE_WAIT_MS);
      this.probes.set(requestId, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      void this.post({ kind: 'probe', requestId, query });
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    clearTimeout(this.retry);
    this.feed?.sub.cancel();
    this.feed = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function distUri(loom: Loom): vscode.Uri {
  return vscode.Uri.joinPath(loom.context.extensionUri, 'dist');
}

/** Scripts on; the page may load only what lies in dist/. */
function webviewOptions(loom: Loom): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [distUri(loom)] };
}

/** "Loom: Open Dashboard": opens the panel and starts (or attaches to) the runtime that feeds it. */
export function openDashboard(loom: Loom): DashboardPanel {
  const panel = DashboardPanel.open(loom);
  // ensureRuntime reports its own failure to the user; the page shows the state it leaves.
  if (loom.workspace) void loom.ensureRuntime().catch(() => undefined);
  return panel;
}

/** Restores the dashboard after a reload (activation event onWebviewPanel:loom.dashboard). */
export function registerDashboardSerializer(loom: Loom): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
    deserializeWebviewPanel: async (panel) => {
      DashboardPanel.restore(panel, loom);
    },
  });
}

export const dashboardApi: DashboardApi = {
  get open() {
    return DashboardPanel.current !== undefined;
  },
  get visible() {
    return DashboardPanel.current?.panel.visible ?? false;
  },
  get streaming() {
    return DashboardPanel.current?.streaming ?? false;
  },
  probe(query) {
    const current = DashboardPanel.current;
    return current ? current.probe(query) : Promise.reject(new Error('the dashboard is not open'));
  },
};
