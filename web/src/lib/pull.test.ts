import { describe, expect, it } from "vitest";
import { applyPullEvent, loadEventProgress, parseSse, parseSseAll, pullTotals, startPull } from "./pull";

describe("parseSse", () => {
  it("parses whole events and keeps the unfinished one", () => {
    const r = parseSse("", 'data: {"type":"a"}\n\ndata: {"ty');
    expect(r.events).toEqual([{ type: "a" }]);
    expect(r.rest).toBe('data: {"ty');
    const r2 = parseSse(r.rest, 'pe":"b"}\n\n');
    expect(r2.events).toEqual([{ type: "b" }]);
    expect(r2.rest).toBe("");
  });

  it("handles CRLF split across chunks, comments, multi-line data and [DONE]", () => {
    const events = parseSseAll([": keep-alive\r\n\r", "\ndata: {\"x\":\r", "\n", "data: 1}\r\n\r\n", "data: [DONE]\n\n", "data: plain"]);
    expect(events).toEqual([{ x: 1 }, "plain"]);
  });

  it("survives one byte at a time", () => {
    const text = 'data: {"type":"pull_progress","done":5,"total":10}\n\ndata: {"type":"pull_complete"}\n\n';
    expect(parseSseAll(text.split(""))).toEqual([{ type: "pull_progress", done: 5, total: 10 }, { type: "pull_complete" }]);
  });
});

describe("applyPullEvent", () => {
  it("follows a pull from plan to completion", () => {
    let s = startPull();
    s = applyPullEvent(s, {
      type: "pull_plan",
      repo: "o/r",
      quant: "Q4_K_M",
      bytes_to_fetch: 300,
      files: [
        { path: "a.gguf", size: 100 },
        { path: "b.gguf", size: 200 },
      ],
    });
    expect(s.phase).toBe("downloading");
    expect(s.repo).toBe("o/r");
    s = applyPullEvent(s, { type: "pull_file", index: 0, file: { path: "a.gguf", size: 100 } });
    s = applyPullEvent(s, { type: "pull_progress", index: 0, done: 50, total: 100, bytes_per_second: 10, eta_seconds: 5 });
    expect(pullTotals(s)).toEqual({ done: 50, total: 300 });
    expect(s.etaSeconds).toBe(5);
    s = applyPullEvent(s, { type: "pull_file", index: 1, file: { path: "b.gguf", size: 200 } });
    s = applyPullEvent(s, { type: "pull_progress", index: 1, done: 20, total: 200, bytes_per_second: 10, eta_seconds: 18 });
    expect(pullTotals(s)).toEqual({ done: 120, total: 300 });
    s = applyPullEvent(s, { type: "pull_complete", result: {} });
    expect(s.phase).toBe("done");
    expect(pullTotals(s)).toEqual({ done: 300, total: 300 });
  });

  it("takes the server's error words", () => {
    const s = applyPullEvent(startPull(), { error: { message: "repo o/r has no Q9 (it has Q4_K_M)", type: "not_found", code: null } });
    expect(s.phase).toBe("error");
    expect(s.error).toBe("repo o/r has no Q9 (it has Q4_K_M)");
  });

  it("ignores what it does not know", () => {
    const s = startPull();
    expect(applyPullEvent(s, "text")).toBe(s);
    expect(applyPullEvent(s, { type: "other" })).toBe(s);
  });
});

describe("loadEventProgress", () => {
  it("reads load events", () => {
    expect(loadEventProgress({ type: "load_progress", progress: 0.5 })).toEqual({ progress: 0.5 });
    expect(loadEventProgress({ type: "load_complete", model: {} })).toEqual({ progress: 1, done: true });
    expect(loadEventProgress({ error: { message: "needs 5 GiB, 2 GiB free on CUDA0" } })).toEqual({ error: "needs 5 GiB, 2 GiB free on CUDA0" });
  });
});
