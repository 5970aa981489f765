// Subscriptions indexed by pattern segment, so matching a topic costs the topic's depth times
// the wildcard branching at each level, not one test per subscription: with 10 000 patterns a
// linear scan is what would make every publish slow.

// A class with every field set in the constructor gives all nodes one hidden class; nodes with
// fields added ad hoc made the match walk megamorphic and several times slower.
class TrieNode<T> {
  literal: Map<string, TrieNode<T>> | undefined = undefined;
  star: TrieNode<T> | undefined = undefined;
  /** Values whose pattern ends here. */
  here: Set<T> | undefined = undefined;
  /** Values whose pattern ends here with a `>` (one or more further segments). */
  rest: Set<T> | undefined = undefined;
}

export class SegmentTrie<T> {
  private readonly root = new TrieNode<T>();
  private count = 0;

  /** Number of values stored. */
  get size(): number {
    return this.count;
  }

  /** Number of nodes, root included; back to 1 once every value is removed (nothing leaks). */
  nodeCount(): number {
    const walk = (n: TrieNode<T>): number => {
      let c = 1;
      if (n.literal) for (const child of n.literal.values()) c += walk(child);
      if (n.star) c += walk(n.star);
      return c;
    };
    return walk(this.root);
  }

  add(segments: readonly string[], value: T): void {
    let node = this.root;
    const last = segments.length - 1;
    for (let i = 0; i <= last; i++) {
      const s = segments[i];
      if (s === '>') {
        (node.rest ??= new Set()).add(value);
        this.count++;
        return;
      }
      if (s === '*') node = node.star ??= new TrieNode<T>();
      else {
        const lit = (node.literal ??= new Map());
        let next = lit.get(s);
        if (!next) lit.set(s, (next = new TrieNode<T>()));
        node = next;
      }
    }
    (node.here ??= new Set()).add(value);
    this.count++;
  }

  /** Removes the value and prunes the nodes it alone kept alive. */
  remove(segments: readonly string[], value: T): boolean {
    const path: TrieNode<T>[] = [this.root];
    let node: TrieNode<T> | undefined = this.root;
    let i = 0;
    for (; i < segments.length && segments[i] !== '>'; i++) {
      const s = segments[i];
      node = s === '*' ? node.star : node.literal?.get(s);
      if (!node) return false;
      path.push(node);
    }
    const set = i < segments.length ? node.rest : node.here;
    if (!set?.delete(value)) return false;
    this.count--;
    if (set.size === 0) {
      if (i < segments.length) node.rest = undefined;
      else node.here = undefined;
    }
    for (let d = path.length - 1; d > 0; d--) {
      const child = path[d];
      if (child.here || child.rest || child.star || child.literal?.size) break;
      const parent = path[d - 1];
      const s = segments[d - 1];
      if (s === '*') parent.star = undefined;
      else {
        parent.literal!.delete(s);
        if (parent.literal!.size === 0) parent.literal = undefined;
      }
    }
    return true;
  }

  /** Appends every value whose pattern matches the topic's segments. Each value appears once per pattern it was added under. */
  match(topic: readonly string[], out: T[] = []): T[] {
    this.walk(this.root, topic, 0, out);
    return out;
  }

  private walk(node: TrieNode<T>, topic: readonly string[], i: number, out: T[]): void {
    if (node.rest && i < topic.length) for (const v of node.rest) out.push(v);
    if (i === topic.length) {
      if (node.here) for (const v of node.here) out.push(v);
      return;
    }
    const lit = node.literal?.get(topic[i]);
    if (lit) this.walk(lit, topic, i + 1, out);
    if (node.star) this.walk(node.star, topic, i + 1, out);
  }
}
