// Contract: where a key of loom.toml is written. Problems name keys by their TOML path, and a person
// (and VS Code's Problems panel) wants the line. A line scanner, not a second parser: it follows
// [table] headers and `key = value` lines, which is how loom.toml is written; a key it cannot
// place (inside an inline table, say) falls back to its nearest enclosing key or table.
export interface KeyLocation {
  /** 1-based, as in ConfigProblem. */
  line: number;
  column: number;
}

/** "a.\"b c\".d" → ["a", "b c", "d"] (bare or double-quoted segments; array indices dropped). */
function segmentsOf(path: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+)|\[\d+\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(JSON.parse(`"${m[1]}"`) as string);
    else if (m[2] !== undefined) out.push(m[2]);
  }
  return out;
}

const HEADER = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const ASSIGNMENT = /^(\s*)((?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+))*)\s*=/;

export function locateKey(text: string, path: string): KeyLocation | undefined {
  const wanted = segmentsOf(path);
  if (wanted.length === 0) return undefined;
  let table: string[] = [];
  let best: { location: KeyLocation; depth: number } | undefined;
  // The deepest written path on the way to the key wins (the first one, on a tie): the key's own
  // line, else its table's. A path below the key ([agent.worker] for "agent") also places it.
  const consider = (segments: string[], location: KeyLocation) => {
    const shared = Math.min(segments.length, wanted.length);
    for (let i = 0; i < shared; i++) if (segments[i] !== wanted[i]) return;
    if (!best || shared > best.depth) best = { location, depth: shared };
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = HEADER.exec(line);
    if (header) {
      table = segmentsOf(header[1]!);
      consider(table, { line: i + 1, column: line.indexOf('[') + 1 });
      continue;
    }
    const assignment = ASSIGNMENT.exec(line);
    if (assignment)
      consider([...table, ...segmentsOf(assignment[2]!)], { line: i + 1, column: assignment[1]!.length + 1 });
  }
  return best?.location;
}
