// The file sandbox as the runtime builds it from its config. The confinement itself is the
// contract's (runtime/contract/sandbox.ts), shared with the extension's editor tools.
import type { LoomConfig } from '../config';
import type { Logger } from '../log';
import { Sandbox as PathSandbox } from '../contract/sandbox';

export type { ResolvedPath, SandboxOptions } from '../contract/sandbox';

export class Sandbox extends PathSandbox {
  /** Roots = the workspace + config.runtime.roots (relative ones against the workspace); missing extra roots are skipped with a warning. */
  static fromConfig(config: LoomConfig, log?: Logger): Sandbox {
    const skipped = (root: string) => log?.warn('workspace root does not exist; skipped', { root });
    return new Sandbox(PathSandbox.optionsFor(config.workspace, config.runtime.roots, config.runtime.dataDir, skipped));
  }
}
