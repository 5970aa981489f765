// What `activate` returns (core.ts adds the dashboard and activation timings): read by the
// extension-host tests, and usable by other extensions. Every property reads the live state
// through a narrow host, so an object inheriting from the API (core.ts) stays live too.
import type * as vscode from 'vscode';
import type { DiscoveryInfo } from '../runtime/contract';

export type RuntimeState = 'stopped' | 'starting' | 'running' | 'reconnecting' | 'stopping' | 'failed';

export interface LoomApi {
  readonly state: RuntimeState;
  /** The runtime this window is connected to. */
  readonly runtime: (DiscoveryInfo & { owned: boolean }) | undefined;
  readonly onDidChangeState: vscode.Event<RuntimeState>;
  readonly statusText: string;
  /** The runtime status bar item's tooltip and background (a theme color id: the error or warning look). */
  readonly statusTooltip: string;
  readonly statusBackground: string | undefined;
  readonly agentStatusText: string;
  /** The command the runtime status bar item runs when clicked. */
  readonly statusCommand: string | undefined;
  readonly trusted: boolean;
  /** The failure notifications this window showed, oldest first. */
  readonly notices: readonly string[];
  /** Whether the runtime status item shows (only where a loom.toml exists, or a runtime runs). */
  readonly statusVisible: boolean;
  /** The restart offers this window showed (changed settings, loom.toml sections), oldest first. */
  readonly restartOffers: readonly string[];
}

/** What the API reads. */
export interface ApiHost {
  readonly state: RuntimeState;
  readonly runtime: (DiscoveryInfo & { owned: boolean }) | undefined;
  readonly onDidChangeState: vscode.Event<RuntimeState>;
  readonly statusBar: {
    readonly text: string;
    readonly tooltip: string;
    readonly background: string | undefined;
    readonly agentText: string;
    readonly command: string | undefined;
    readonly visible: boolean;
  };
  readonly trusted: boolean;
  readonly notices: readonly string[];
  readonly restartOffers: readonly string[];
}

export class LoomApiObject implements LoomApi {
  constructor(private readonly host: ApiHost) {}

  get state(): RuntimeState {
    return this.host.state;
  }

  get runtime(): (DiscoveryInfo & { owned: boolean }) | undefined {
    return this.host.runtime;
  }

  get onDidChangeState(): vscode.Event<RuntimeState> {
    return this.host.onDidChangeState;
  }

  get statusText(): string {
    return this.host.statusBar.text;
  }

  get statusTooltip(): string {
    return this.host.statusBar.tooltip;
  }

  get statusBackground(): string | undefined {
    return this.host.statusBar.background;
  }

  get agentStatusText(): string {
    return this.host.statusBar.agentText;
  }

  get statusCommand(): string | undefined {
    return this.host.statusBar.command;
  }

  get trusted(): boolean {
    return this.host.trusted;
  }

  get notices(): readonly string[] {
    return this.host.notices;
  }

  get statusVisible(): boolean {
    return this.host.statusBar.visible;
  }

  get restartOffers(): readonly string[] {
    return this.host.restartOffers;
  }
}
