// Server-sent events from /api/models/pull and /api/models/load, parsed from
// text chunks as they arrive, and a pull's progress folded from its events.
// Pure functions: the screen feeds them what fetch reads.

// One SSE parse step: the text left over from the last chunk plus this chunk
// gives the complete events' data (JSON-decoded where it is JSON) and the
// text of an event not complete yet.
export function parseSse(rest: string, chunk: string): { events: unknown[]; rest: string } {
  let text = rest + chunk;
  // A "\r" at the very end may be half of a "\r\n": it waits for the next chunk.
  const held = text.endsWith("\r") ? "\r" : "";
  if (held) text = text.slice(0, -1);
  text = text.replace(/\r\n?/g, "\n");
  const blocks = text.split("\n\n");
  const tail = (blocks.pop() ?? "") + held;
  const events: unknown[] = [];
  for (const block of blocks) {
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      // comments (":"), event:, id: and retry: lines carry nothing we use
    }
    if (!data.length) continue;
    const joined = data.join("\n");
    if (joined === "[DONE]") continue;
    try {
      events.push(JSON.parse(joined));
    } catch {
      events.push(joined);
    }
  }
  return { events, rest: tail };
}

// Every event of a whole stream (what a test or a final flush needs).
export function parseSseAll(chunks: string[]): unknown[] {
  let rest = "";
  const out: unknown[] = [];
  for (const c of chunks) {
    const r = parseSse(rest, c);
    out.push(...r.events);
    rest = r.rest;
  }
  if (rest.trim()) out.push(...parseSse(rest, "\n\n").events);
  return out;
}

export interface PullFile {
  path: string;
  size: number;
  already_present?: boolean;
}

export interface PullState {
  phase: "starting" | "downloading" | "done" | "error" | "cancelled";
  repo?: string;
  quant?: string;
  dir?: string;
  files: PullFile[];
  bytesToFetch: number;
  index: number; // the file being fetched
  fileDone: number;
  fileTotal: number;
  bytesPerSecond: number;
  etaSeconds: number; // -1: unknown
  error?: string;
  errorCode?: string;
}

export function startPull(): PullState {
  return { phase: "starting", files: [], bytesToFetch: 0, index: 0, fileDone: 0, fileTotal: 0, bytesPerSecond: 0, etaSeconds: -1 };
}

type Ev = Record<string, unknown> & { type?: string };

function num(v: unknown, fallback = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

// The state after one event (a new object; the old one is left alone).
export function applyPullEvent(s: PullState, raw: unknown): PullState {
  if (!raw || typeof raw !== "object") return s;
  const ev = raw as Ev;
  const err = ev.error as { message?: string; type?: string; code?: string } | undefined;
  if (err && typeof err === "object") {
    return { ...s, phase: "error", error: String(err.message ?? "the pull failed"), errorCode: err.code ?? err.type };
  }
  switch (ev.type) {
    case "pull_plan":
      return {
        ...s,
        phase: "downloading",
        repo: ev.repo as string | undefined,
        quant: ev.quant as string | undefined,
        dir: ev.dir as string | undefined,
        bytesToFetch: num(ev.bytes_to_fetch),
        files: Array.isArray(ev.files) ? (ev.files as PullFile[]) : [],
      };
    case "pull_file": {
      const f = ev.file as PullFile | undefined;
      return { ...s, phase: "downloading", index: num(ev.index), fileDone: 0, fileTotal: num(f?.size), bytesPerSecond: 0, etaSeconds: -1 };
    }
    case "pull_progress":
      return {
        ...s,
        phase: "downloading",
        index: num(ev.index, s.index),
        fileDone: num(ev.done),
        fileTotal: num(ev.total, s.fileTotal),
        bytesPerSecond: num(ev.bytes_per_second),
        etaSeconds: num(ev.eta_seconds, -1),
      };
    case "pull_complete":
      return { ...s, phase: "done", fileDone: s.fileTotal || s.fileDone, etaSeconds: 0 };
    default:
      return s;
  }
}

// Bytes over all files: the files before the current one count whole.
export function pullTotals(s: PullState): { done: number; total: number } {
  if (!s.files.length) return { done: s.fileDone, total: s.fileTotal };
  let total = 0;
  let done = 0;
  s.files.forEach((f, i) => {
    const size = num(f.size);
    total += size;
    if (i < s.index || s.phase === "done") done += size;
  });
  if (s.phase !== "done") done += s.fileDone;
  return { done: Math.min(done, total || done), total };
}

// The fraction of a load's progress events (load_progress {progress}), or an error message.
export function loadEventProgress(raw: unknown): { progress?: number; done?: boolean; error?: string } {
  if (!raw || typeof raw !== "object") return {};
  const ev = raw as Ev;
  const err = ev.error as { message?: string } | undefined;
  if (err && typeof err === "object") return { error: String(err.message ?? "the load failed") };
  if (ev.type === "load_progress") return { progress: num(ev.progress) };
  if (ev.type === "load_complete") return { progress: 1, done: true };
  return {};
}
