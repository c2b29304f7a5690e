import { describe, expect, test } from "vitest";
import { ChatTree, draftId, isDraft } from "./chat-tree";

// user 1 -> answers 2 and 4 (a regeneration); 2 -> user 3; 1's sibling 5 (an edit) -> answer 6.
const messages = [
  { id: 1, parent_id: 0 },
  { id: 2, parent_id: 1 },
  { id: 3, parent_id: 2 },
  { id: 4, parent_id: 1 },
  { id: 5, parent_id: 0 },
  { id: 6, parent_id: 5 },
];

describe("ChatTree", () => {
  test("a path runs from the root to the leaf", () => {
    const t = new ChatTree(messages);
    expect(t.path(3).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(t.path(6).map((m) => m.id)).toEqual([5, 6]);
    expect(t.path(99)).toEqual([]);
  });

  test("siblings share a parent, oldest first", () => {
    const t = new ChatTree(messages);
    expect(t.siblings(4)).toEqual({ ids: [2, 4], index: 1 });
    expect(t.siblings(1)).toEqual({ ids: [1, 5], index: 0 });
    expect(t.siblings(3)).toEqual({ ids: [3], index: 0 });
  });

  test("switching to a sibling goes to the newest leaf below it", () => {
    const t = new ChatTree(messages);
    expect(t.leafOf(1)).toBe(4);
    expect(t.leafOf(2)).toBe(3);
    expect(t.leafOf(5)).toBe(6);
    expect(t.leafOf(6)).toBe(6);
    expect(t.newestLeaf()).toBe(6);
  });

  test("a draft is newer than every stored message and is re-keyed when stored", () => {
    const t = new ChatTree(messages);
    const d = draftId();
    expect(isDraft(d)).toBe(true);
    expect(isDraft(6)).toBe(false);
    t.add({ id: d, parent_id: 3 });
    expect(t.leafOf(1)).toBe(d);
    t.replace(d, { id: 7, parent_id: 3 });
    expect(t.get(d)).toBeUndefined();
    expect(t.path(7).map((m) => m.id)).toEqual([1, 2, 3, 7]);
    expect(t.children(3)).toEqual([7]);
  });

  test("a removed draft leaves no sibling behind", () => {
    const t = new ChatTree(messages);
    const d = draftId();
    t.add({ id: d, parent_id: 1 });
    expect(t.siblings(2).ids).toEqual([2, 4, d]);
    t.remove(d);
    expect(t.siblings(2).ids).toEqual([2, 4]);
  });

  test("a cycle in bad data does not hang", () => {
    const t = new ChatTree([
      { id: 1, parent_id: 2 },
      { id: 2, parent_id: 1 },
    ]);
    expect(t.path(1).length).toBe(2);
  });
});
