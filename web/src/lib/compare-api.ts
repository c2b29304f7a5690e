// The comparisons' calls: one streamed cell (a run of /api/prompts/run into a
// CellResult that updates as tokens come) and the saved comparisons
// (/api/prompts/comparisons).
import { ApiError, getJson, sendJson } from "./api";
import { runPrompt, type RunTarget } from "./architect-api";
import { emptyCell, withStats, type CellResult } from "./compare";

// Runs one cell: `cell` is a reactive object that the page shows; its answer
// grows per token and its figures every 250 ms. Resolves when the run ends
// (done, stopped by `signal`, or failed: the error is in the cell, never thrown).
export async function runCell(target: RunTarget, cell: CellResult, signal: AbortSignal): Promise<void> {
  Object.assign(cell, emptyCell("running"));
  const start = performance.now();
  let first: number | null = null;
  let last: number | null = null;
  let tokens = 0;
  let usage: number | null = null;
  const update = () => Object.assign(cell, withStats(cell, { start, first, last, now: performance.now(), tokens, usage }));
  const ticker = setInterval(update, 250);
  try {
    await runPrompt(
      target,
      {
        onToken(text) {
          const now = performance.now();
          first ??= now;
          last = now;
          tokens += 1;
          cell.answer += text;
        },
        onUsage(u) {
          if (typeof u.completion_tokens === "number") usage = u.completion_tokens;
        },
        onFinish(reason) {
          cell.finish = reason;
        },
      },
      signal,
      false,
    );
    cell.status = "done";
  } catch (e) {
    if ((e as Error).name === "AbortError" || signal.aborted) {
      cell.status = "stopped";
      cell.finish = "stopped";
    } else {
      cell.status = "error";
      cell.error = e instanceof ApiError ? e.message : String((e as Error).message ?? e);
    }
  } finally {
    clearInterval(ticker);
    update();
  }
}

// ---- saved comparisons ----------------------------------------------------------------

export type ComparisonKind = "models" | "versions";

export interface ComparisonSummary {
  id: string;
  title: string;
  kind: ComparisonKind;
  template_id: string;
  created_at: number;
  updated_at: number;
}

export interface ComparisonRecord extends ComparisonSummary {
  body: unknown;
}

const base = "/api/prompts/comparisons";

// The newest first; the server pages by 200 at most.
export async function listComparisons(limit = 200, offset = 0): Promise<{ items: ComparisonSummary[]; total: number }> {
  return getJson(`${base}?limit=${limit}&offset=${offset}`);
}

export async function getComparison(id: string): Promise<ComparisonRecord> {
  return getJson(`${base}/${encodeURIComponent(id)}`);
}

export async function saveComparison(c: { title: string; kind: ComparisonKind; template_id: string; body: object }): Promise<ComparisonRecord> {
  return sendJson("POST", base, c);
}

export async function renameComparison(id: string, title: string): Promise<ComparisonRecord> {
  return sendJson("PATCH", `${base}/${encodeURIComponent(id)}`, { title });
}

export async function deleteComparison(id: string): Promise<void> {
  await sendJson("DELETE", `${base}/${encodeURIComponent(id)}`);
}
