// Agents run with a Python interpreter that must import `loom` at a version this extension
// speaks: checked before agents start (a missing SDK used to mean agents crash-looping
// silently), and installed on request from the wheel the VSIX carries (dist/sdk/).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface BundledSdk {
  wheel: string;
  version: string;
}

export type SdkCheck = { ok: true; version: string } | { ok: false; problem: string };

/** The wheel in <extension>/dist/sdk, if the build made one. */
export function bundledSdk(extensionPath: string): BundledSdk | undefined {
  const dir = join(extensionPath, 'dist', 'sdk');
  const wheel = existsSync(dir) ? readdirSync(dir).find((f) => /^loom_vscode_sdk-[^-]+-.*\.whl$/.test(f)) : undefined;
  return wheel ? { wheel: join(dir, wheel), version: wheel.split('-')[1]! } : undefined;
}

/** 0.x versions are compatible within a minor; 1.x and later within a major. */
export function compatible(found: string, wanted: string): boolean {
  const [fMajor, fMinor] = found.split('.');
  const [wMajor, wMinor] = wanted.split('.');
  return fMajor === wMajor && (wMajor !== '0' || fMinor === wMinor);
}

function run(
  file: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        stdout: String(stdout),
        stderr: String(stderr),
        error: e && typeof e.code === 'string' ? e : undefined,
      });
    });
  });
}

const CHECK_TIMEOUT_MS = 60_000;

/** Whether `python` imports loom at a version compatible with `wanted` (any, when unknown). */
export async function checkSdk(python: string, wanted: string | undefined): Promise<SdkCheck> {
  const r = await run(python, ['-c', 'import loom; print(loom.__version__)'], CHECK_TIMEOUT_MS);
  if (r.error?.code === 'ENOENT') return { ok: false, problem: `the Python interpreter ${python} does not exist` };
  if (r.code === null && !r.error)
    return { ok: false, problem: `${python} did not answer within ${CHECK_TIMEOUT_MS / 1000} s (import loom)` };
  if (r.error) return { ok: false, problem: `cannot run ${python}: ${r.error.message}` };
  if (r.code !== 0) {
    const missing = /ModuleNotFoundError: No module named 'loom'/.test(r.stderr);
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return {
      ok: false,
      problem: missing
        ? `${python} has no Loom SDK (the "loom" package)`
        : `${python} cannot import the Loom SDK: ${last}`,
    };
  }
  const version = r.stdout.trim();
  if (wanted && !compatible(version, wanted))
    return { ok: false, problem: `${python} has Loom SDK ${version}; this extension needs ${wanted}` };
  return { ok: true, version };
}

/** pip-installs the bundled wheel (and its dependencies, from the package index) into `python`. */
export async function installSdk(python: string, sdk: BundledSdk): Promise<void> {
  const r = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--upgrade', sdk.wheel], 600_000);
  if (r.error || r.code !== 0) {
    const why = r.error?.message ?? (r.stderr.trim().split('\n').slice(-3).join(' ') || `pip exited with ${r.code}`);
    throw new Error(`pip could not install the Loom SDK into ${python}: ${why}`);
  }
}
