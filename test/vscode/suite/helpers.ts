// Shared by the extension-host suites: the extension's API, the test workspace, and a probe
// agent — a real gRPC client of the real runtime that subscribes to topics and calls tools.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import * as vscode from 'vscode';
import type { AgentControlResponse__Output } from '../../../runtime/proto/gen/loom/v1/AgentControlResponse';
import type {
  AgentInfo__Output,
  StatsResponse__Output,
  BridgeClient,
  ClientEvent,
  RuntimeClient,
  ServerEvent__Output,
  ToolResult__Output,
  ToolsClient,
} from '../../../runtime/proto/types';
import type { LoomApi } from '../../../extension/loom';
import { eventually as shared } from '../../support/eventually';
import { connect, type Clients } from '../../support/grpc';

export const EXTENSION_ID = 'loom-os.loom-vscode';

export async function loomApi(): Promise<LoomApi> {
  const ext = vscode.extensions.getExtension<LoomApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test workspace is not open');
  return folder.uri.fsPath;
}

/** Polls until `check` returns a value (not undefined); fails with `what` after `timeoutMs`. */
export function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  return shared(what, check, { timeoutMs });
}

export interface Received {
  topic: string;
  type: string;
  payload: any;
  sender: string;
  source: string;
}

/** A bridge client of its own, registered as an agent, that records what it is delivered. */
export class Probe {
  readonly id = `probe-${randomUUID().slice(0, 8)}`;
  readonly received: Received[] = [];
  private readonly clients: Clients;
  private readonly bridge: BridgeClient;
  private readonly tools: ToolsClient;
  private readonly admin: RuntimeClient;
  private stream: grpc.ClientDuplexStream<ClientEvent, ServerEvent__Output> | undefined;

  constructor(runtime: { address: string; token: string }) {
    // The same client factory as the integration suites: bearer token, dialect, agent id on every call.
    this.clients = connect(runtime.address, { token: runtime.token, agentId: this.id, dialect: 'loom' });
    this.bridge = this.clients.bridge;
    this.tools = this.clients.tools;
    this.admin = this.clients.runtime;
  }

  listAgents(): Promise<AgentInfo__Output[]> {
    return new Promise((resolve, reject) =>
      this.admin.ListAgents({}, (err, r) => (err ? reject(err) : resolve(r!.agents))),
    );
  }

  stats(): Promise<StatsResponse__Output> {
    return new Promise((resolve, reject) => this.admin.GetStats({}, (err, r) => (err ? reject(err) : resolve(r!))));
  }

  controlAgent(agentId: string, action: 'start' | 'stop' | 'restart'): Promise<AgentControlResponse__Output> {
    return new Promise((resolve, reject) =>
      this.admin.ControlAgent({ agentId, action }, (err, r) => (err ? reject(err) : resolve(r!))),
    );
  }

  async subscribe(topics: string[]): Promise<this> {
    const res = await new Promise<{ success: boolean; errorMessage: string }>((resolve, reject) =>
      this.bridge.RegisterAgent({ agentId: this.id, subscribedTopics: topics, tools: [], metadata: {} }, (err, r) =>
        err ? reject(err) : resolve(r!),
      ),
    );
    if (!res.success) throw new Error(`probe registration refused: ${res.errorMessage}`);
    const stream = this.bridge.EventStream();
    stream.on('data', (msg: ServerEvent__Output) => {
      if (msg.msg === 'delivery' && msg.delivery?.event) {
        const e = msg.delivery.event;
        const text = e.payload.toString('utf8');
        let payload: unknown = text;
        try {
          payload = JSON.parse(text);
        } catch {
          // keep the text
        }
        this.received.push({
          topic: msg.delivery.topic,
          type: e.type,
          payload,
          sender: e.metadata['loom.sender'] ?? e.metadata['sender'] ?? e.source,
          source: e.source,
        });
      }
    });
    stream.on('error', () => undefined);
    stream.write({ ack: { messageId: this.id } });
    this.stream = stream;
    return this;
  }

  /** Waits until the runtime lists this probe as connected: its stream is open, deliveries reach it. */
  async connected(): Promise<this> {
    await eventually(`probe ${this.id} to connect`, async () =>
      (await this.listAgents()).some((a) => a.agentId === this.id && a.state === 'connected') ? true : undefined,
    );
    return this;
  }

  /** Waits for a delivery on `topic` that `match` accepts. */
  next(topic: string, match: (r: Received) => boolean = () => true, timeoutMs = 30_000): Promise<Received> {
    return eventually(
      `an event on ${topic}`,
      () => this.received.find((r) => r.topic === topic && match(r)),
      timeoutMs,
    );
  }

  callTool(name: string, args: unknown, timeoutMs = 30_000): Promise<ToolResult__Output> {
    return new Promise((resolve, reject) =>
      this.tools.CallTool(
        { id: randomUUID(), name, arguments: JSON.stringify(args), timeoutMs, headers: { 'loom.caller': this.id } },
        (err, r) => (err ? reject(err) : resolve(r!)),
      ),
    );
  }

  /** A call its caller gives up on by `cancel()`; `done` settles with the call's error (null when answered). */
  startToolCall(
    name: string,
    args: unknown,
    timeoutMs: number,
  ): { cancel(): void; done: Promise<grpc.ServiceError | null> } {
    let call: grpc.ClientUnaryCall | undefined;
    const done = new Promise<grpc.ServiceError | null>((resolve) => {
      call = this.tools.CallTool(
        { id: randomUUID(), name, arguments: JSON.stringify(args), timeoutMs, headers: { 'loom.caller': this.id } },
        (err) => resolve(err),
      );
    });
    return { cancel: () => call!.cancel(), done };
  }

  close(): void {
    try {
      this.stream?.end();
    } catch {
      // gone already
    }
    this.clients.close();
  }
}

export function outputOf(result: ToolResult__Output): any {
  if (result.status !== 'TOOL_OK')
    throw new Error(`tool failed: ${result.status} ${result.error?.code}: ${result.error?.message}`);
  return JSON.parse(result.output);
}

/**
 * A screenshot of the workbench as it is now, to test/output/vscode-<suite>-<name>.png: the
 * runner (run.ts), which drives the browser, takes it on request (a file beside the workspace).
 */
export async function screenshot(name: string): Promise<void> {
  const { existsSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = join(workspaceDir(), '..', 'shots');
  mkdirSync(dir, { recursive: true });
  const done = join(dir, `${name}.done`);
  rmSync(done, { force: true });
  writeFileSync(join(dir, `${name}.request`), '');
  await eventually(`the runner to take screenshot ${name}`, () => (existsSync(done) ? true : undefined), 20_000);
}
