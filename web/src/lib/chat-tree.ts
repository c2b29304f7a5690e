// A conversation is a tree: regenerating an answer or editing a message adds
// a sibling, and the conversation shows one path, from a root to its current
// leaf. Pure functions over the messages the history API returns. Ids grow
// with time, and drafts not yet stored get ids above every stored one
// (draftId), so "newest" is the largest id.

export interface TreeMessage {
  id: number;
  parent_id: number; // 0: a root
}

export class ChatTree<M extends TreeMessage> {
  private byId = new Map<number, M>();
  private kids = new Map<number, number[]>(); // parent id (0 for roots) -> child ids, oldest first

  constructor(messages: Iterable<M> = []) {
    for (const m of messages) this.add(m);
  }

  add(m: M): void {
    if (this.byId.has(m.id)) this.remove(m.id);
    this.byId.set(m.id, m);
    const list = this.kids.get(m.parent_id) ?? [];
    list.push(m.id);
    list.sort((a, b) => a - b);
    this.kids.set(m.parent_id, list);
  }

  // Replaces a message (same id) or re-keys one: a draft id becomes the stored one.
  replace(oldId: number, m: M): void {
    const children = this.kids.get(oldId) ?? [];
    this.remove(oldId);
    this.add(m);
    for (const c of children) {
      const child = this.byId.get(c);
      if (child) this.add({ ...child, parent_id: m.id });
    }
  }

  remove(id: number): void {
    const m = this.byId.get(id);
    if (!m) return;
    this.byId.delete(id);
    const list = this.kids.get(m.parent_id);
    if (list) this.kids.set(m.parent_id, list.filter((x) => x !== id));
  }

  get(id: number): M | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  children(id: number): number[] {
    return this.kids.get(id) ?? [];
  }

  // The messages from a root down to `leaf`, in order.
  path(leaf: number): M[] {
    const out: M[] = [];
    const seen = new Set<number>();
    for (let m = this.byId.get(leaf); m && !seen.has(m.id); m = this.byId.get(m.parent_id)) {
      seen.add(m.id);
      out.push(m);
    }
    return out.reverse();
  }

  // The message and its siblings (same parent), oldest first, and its place among them.
  siblings(id: number): { ids: number[]; index: number } {
    const m = this.byId.get(id);
    if (!m) return { ids: [], index: -1 };
    const ids = this.children(m.parent_id);
    return { ids, index: ids.indexOf(id) };
  }

  // The leaf a branch leads to: the newest leaf below `id` (itself when it has no children).
  leafOf(id: number): number {
    let best = -Infinity;
    const stack = [id];
    while (stack.length) {
      const cur = stack.pop()!;
      const kids = this.children(cur);
      if (kids.length === 0) best = Math.max(best, cur);
      else stack.push(...kids);
    }
    return best;
  }

  // The newest leaf of the whole tree (where a conversation without a stored leaf resumes).
  newestLeaf(): number {
    let best = 0;
    for (const [id] of this.byId) if (this.children(id).length === 0 && id > best) best = id;
    return best;
  }
}

let draftCounter = 0;
// An id for a message not stored yet: above every id the server hands out.
export function draftId(): number {
  return 2 ** 52 + ++draftCounter;
}

export function isDraft(id: number): boolean {
  return id > 2 ** 52;
}
