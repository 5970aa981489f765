// Contract: process helpers every process of Loom relies on the same way (the runtime's orphan
// reaper, the extension's launcher deciding whether a discovery file's runtime still lives).

/** Is a process with this pid alive (one we may not signal counts as alive)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
