// The dashboard's link to its host. Inside VS Code: the webview's postMessage channel. In a
// browser against a headless runtime: an NDJSON stream of feed updates and POSTed actions, with
// the runtime's token (given in the page's URL) on every request.
import { answerProbe } from './probe';
import {
  FEED_BACKLOG,
  lastSeqOf,
  type ActionResult,
  type DashboardAction,
  type FeedUpdateWire,
  type HostMessage,
  type UiMessage,
} from '../runtime/contract/dashboard';
import { messageOf } from '../runtime/contract/errors';

export interface Host {
  act(action: DashboardAction): Promise<ActionResult>;
  onFeed(fn: (u: FeedUpdateWire) => void): void;
  onConnection(fn: (state: string, detail?: string) => void): void;
  start(): void;
}

declare function acquireVsCodeApi(): {
  postMessage(m: UiMessage): void;
  setState(s: unknown): void;
  getState(): unknown;
};

abstract class BaseHost implements Host {
  protected feedFns: ((u: FeedUpdateWire) => void)[] = [];
  protected connFns: ((s: string, d?: string) => void)[] = [];
  onFeed(fn: (u: FeedUpdateWire) => void): void {
    this.feedFns.push(fn);
  }
  onConnection(fn: (s: string, d?: string) => void): void {
    this.connFns.push(fn);
  }
  protected feed(u: FeedUpdateWire): void {
    for (const f of this.feedFns) f(u);
  }
  protected conn(s: string, d?: string): void {
    for (const f of this.connFns) f(s, d);
  }
  abstract act(action: DashboardAction): Promise<ActionResult>;
  abstract start(): void;
}

class VsCodeHost extends BaseHost {
  private readonly api = acquireVsCodeApi();
  private next = 1;
  private readonly pending = new Map<number, (r: ActionResult) => void>();

  start(): void {
    window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
      const m = ev.data;
      if (m.kind === 'feed') this.feed(m.update);
      else if (m.kind === 'actionResult') {
        this.pending.get(m.requestId)?.(m.result);
        this.pending.delete(m.requestId);
      } else if (m.kind === 'connection') this.conn(m.state, m.detail);
      else if (m.kind === 'probe')
        void answerProbe(m.query).then((answer) =>
          this.api.postMessage({ kind: 'probeAnswer', requestId: m.requestId, answer }),
        );
    });
    this.api.postMessage({ kind: 'ready' });
  }

  act(action: DashboardAction): Promise<ActionResult> {
    const requestId = this.next++;
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.api.postMessage({ kind: 'action', requestId, action });
    });
  }
}

class HttpHost extends BaseHost {
  private readonly token = new URLSearchParams(location.search).get('token') ?? '';
  private readonly headers = { authorization: `Bearer ${this.token}` };
  /** The last event seen: a reconnect resumes after it (and hears how many it missed). */
  private lastSeq = 0;

  start(): void {
    void this.stream();
  }

  private async stream(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.conn('connecting');
      try {
        const res = await fetch(`api/feed?backlog=${FEED_BACKLOG}&after_seq=${this.lastSeq}`, {
          headers: this.headers,
        });
        if (!res.ok || !res.body) throw new Error(`${res.status} ${await res.text()}`);
        this.conn('connected');
        attempt = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const update = JSON.parse(line) as FeedUpdateWire;
            this.lastSeq = lastSeqOf(update, this.lastSeq);
            this.feed(update);
          }
        }
        this.conn('lost', 'the runtime closed the feed');
      } catch (e) {
        this.conn('lost', messageOf(e));
      }
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }

  async act(action: DashboardAction): Promise<ActionResult> {
    try {
      const res = await fetch('api/action', {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/json' },
        body: JSON.stringify(action),
      });
      return (await res.json()) as ActionResult;
    } catch (e) {
      return { ok: false, error: messageOf(e) };
    }
  }
}

export function connectHost(): Host {
  return typeof acquireVsCodeApi === 'function' ? new VsCodeHost() : new HttpHost();
}
