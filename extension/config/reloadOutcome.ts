// What the runtime says on runtime.config after it reloaded loom.toml (runtime/main.ts
// reportReload): here, the sections it applies only after a restart. No vscode, so unit-tested.

/** The sections to restart for, as the runtime lists them; undefined for a payload this window does not understand. */
export function restartSections(payload: Buffer): string[] | undefined {
  try {
    const outcome = JSON.parse(payload.toString('utf8')) as { restart_needed?: unknown; restartNeeded?: unknown };
    const list = outcome.restart_needed ?? outcome.restartNeeded;
    return Array.isArray(list) ? list.map(String) : [];
  } catch {
    return undefined;
  }
}
