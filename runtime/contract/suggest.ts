// Contract: "did you mean" — the names nearest a wanted one by edit distance, and the same tool name
// under another namespace (fs:read_file asked as file:read_file). The tool registry's and loom.toml's
// messages use it, in the runtime and, for loom.toml, in the extension (the Python SDK has a port:
// sdk/python/loom/config).

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Names no suggestion is looked for past: the edit distance costs the product of the two lengths,
 * and a caller may send a name of megabytes (one such call held the runtime for two minutes
 * against a hundred long tool names). Every name worth suggesting for is far shorter.
 */
const MAX_SUGGESTABLE = 256;

export function closestNames(wanted: string, names: string[], max = 3): string[] {
  if (wanted.length > MAX_SUGGESTABLE) return [];
  const lower = wanted.toLowerCase();
  const bare = lower.slice(lower.indexOf(':') + 1);
  const limit = Math.max(2, Math.floor(lower.length / 3));
  return names
    .map((name) => {
      const n = name.toLowerCase();
      const sameBareName = bare.length > 0 && n.slice(n.indexOf(':') + 1) === bare;
      // The distance is at least the difference in length: past the limit, not worth computing.
      if (sameBareName) return { name, score: 0 };
      return { name, score: Math.abs(n.length - lower.length) > limit ? Infinity : editDistance(lower, n) };
    })
    .filter((c) => c.score <= limit)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((c) => c.name);
}
