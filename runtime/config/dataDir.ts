// Where a workspace's runtime keeps its store, discovery file and log: `[runtime] data_dir`, a
// folder inside the workspace (load.ts refuses an absolute path or one leading out with "..").
// dataDirOf reads it on its own and synchronously, because clients (the extension, the CLI's
// attach mode) must find the discovery file before any runtime answers. openDataDir is the
// runtime's: it creates the folder private and refuses one that a symbolic link leads outside.
import { promises as fs } from 'node:fs';
import { join, normalize, relative, sep } from 'node:path';
import { ConfigError, describe } from './errors';
import { dataDirProblem, isOutside } from '../contract/dataDir';

export { dataDirOf } from '../contract/dataDir';

/**
 * Creates the data folder mode 0700 (an existing one is narrowed to 0700: another user must not
 * reach the token or the store) and returns its real path. Each component is created, then its
 * real path checked, so a symbolic link leading out of the workspace stops the start before
 * anything is created beyond it. Writes a .gitignore of "*" in it where there is none. Throws
 * ConfigError naming runtime.data_dir.
 */
export async function openDataDir(workspace: string, dataDir: string): Promise<string> {
  const refuse = (message: string) => new ConfigError(workspace, workspace, [{ key: 'runtime.data_dir', message }]);
  const problem = dataDirProblem(dataDir);
  if (problem) throw refuse(problem);
  const root = await fs.realpath(workspace);
  const parts = normalize(dataDir)
    .split(sep)
    .filter((p) => p !== '' && p !== '.');
  let dir = root;
  for (const [i, part] of parts.entries()) {
    const next = join(dir, part);
    await fs.mkdir(next, { mode: i === parts.length - 1 ? 0o700 : 0o777 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    dir = await fs.realpath(next).catch((err: Error) => {
      throw refuse(`${describe(dataDir)} cannot be resolved: ${err.message}`);
    });
    const rel = relative(root, dir);
    if (rel === '' && i === parts.length - 1)
      throw refuse(
        `${describe(dataDir)} leads to the workspace itself through a symbolic link: it must name a folder inside the workspace, one the tools never see`,
      );
    if (isOutside(rel)) {
      throw refuse(
        `${describe(dataDir)} leads to ${dir} through a symbolic link, outside the workspace: it must name a folder inside the workspace, or the runtime would keep its token and store outside the folder the tools protect`,
      );
    }
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw refuse(`${describe(dataDir)} is not a folder (${dir})`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid)
    throw refuse(`${dir} belongs to uid ${stat.uid}, not to the user running the runtime (uid ${uid})`);
  if ((stat.mode & 0o777) !== 0o700) await fs.chmod(dir, 0o700);
  // Git then never stages the token, the store or the log: not by a person's "git add .", nor by
  // a tool's (unconfined, git add runs; only --force, which it refuses, would take them).
  await fs
    .writeFile(join(dir, '.gitignore'), '*\n', { flag: 'wx', mode: 0o600 })
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  return dir;
}
