// The files [cluster] names (an NKey seed, a .creds file, TLS keys and CAs) hold the deployment's
// credentials or decide whom it trusts. Inside a workspace root, agents and the commands their tools
// run read and replace them (the file tools and the sandbox open the whole workspace to them): one
// seed read is every runtime's tools callable under any caller's name, one CA replaced is a server
// the next start trusts. So they must lie outside every root, by the path as written and by where it
// leads (a symbolic link inside a root can be pointed elsewhere).
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { isWithin } from '../contract/sandbox';

/**
 * The absolute path of the file `key` names: `~/` is the home folder, a relative path is taken from
 * the workspace. Throws, naming the key, when it lies inside a workspace root (`roots`: real paths).
 */
export function clusterFile(key: string, written: string, workspace: string, roots: readonly string[]): string {
  const at = written.startsWith('~/')
    ? join(homedir(), written.slice(2))
    : isAbsolute(written)
      ? written
      : resolve(workspace, written);
  let real = at;
  try {
    real = realpathSync.native(at);
  } catch {
    // missing: reading it says so
  }
  const lexicalRoots = [workspace, ...roots];
  const root = lexicalRoots.find((r) => isWithin(r, resolve(at)) || isWithin(r, real));
  if (root !== undefined)
    throw new Error(
      `cluster.${key}: ${at} lies inside the workspace (${root}), where agents and the commands their tools run can read and replace it: move it outside the workspace (for example ~/.config/loom/) and name it by an absolute or ~/ path`,
    );
  return at;
}
