// Files the runtime writes hold secrets (the bridge token) and every agent's memory: they are the
// user's alone. Folders are made 0700 where they are created; this narrows the files in one.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Sets every regular file directly in `folder` to 0600; symbolic links and subfolders are left alone. */
export async function privateFiles(folder: string): Promise<void> {
  for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    // A file deleted meanwhile (a table LevelDB compacted away) needs nothing.
    await fs.chmod(path.join(folder, entry.name), 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
