// The Prompt Architect's comparisons, the pure part: a cell's result and its
// figures, the table of values that two versions run over (one column per
// variable, one row per case), the values each version gets from a row, and
// the body a comparison is saved with (POST /api/prompts/comparisons) and read
// back from when it is reopened.
import { buildValues, isVariableName, type FormValue, type PromptTemplate, type TemplateVariable } from "./architect";

// At most this many models run side by side (the server's limit for a "models" comparison too).
export const MAX_MODELS = 4;

export type CellStatus = "idle" | "queued" | "running" | "done" | "error" | "stopped";

// One answer with its figures, as shown in a column or a row and as kept in a saved comparison.
export interface CellResult {
  status: CellStatus;
  answer: string;
  ttft_ms: number | null;
  tokens_per_second: number | null;
  // true when tokens/s is over the whole request (the tokens all arrived at once): a lower bound.
  rate_is_bound: boolean;
  tokens: number;
  total_ms: number | null;
  finish: string | null;
  error: string;
}

export function emptyCell(status: CellStatus = "idle"): CellResult {
  return { status, answer: "", ttft_ms: null, tokens_per_second: null, rate_is_bound: false, tokens: 0, total_ms: null, finish: null, error: "" };
}

// When a run's tokens came in this short a span (a tiny model, or deltas that arrived in one
// network read), their arrival times say nothing of the model's speed.
export const MIN_RATE_SPAN_MS = 50;

// What the browser saw of a run: times (performance.now()) of the request, the first and the
// latest token, now; the deltas counted and the usage's token count once the server gave it.
export interface RunClock {
  start: number;
  first: number | null;
  last: number | null;
  now: number;
  tokens: number;
  usage: number | null;
}

// A cell's figures from a run's clock: tokens/s over the tokens after the first one; when they
// all came at once, over the whole request instead (a lower bound, never a burst's absurd rate).
export function withStats(cell: CellResult, c: RunClock): CellResult {
  const tokens = c.usage !== null && c.usage > c.tokens ? c.usage : c.tokens;
  let tps: number | null = null;
  let bound = false;
  if (c.first !== null && c.last !== null && tokens > 1 && c.last - c.first >= MIN_RATE_SPAN_MS)
    tps = ((tokens - 1) * 1000) / (c.last - c.first);
  else if (c.first !== null && c.last !== null && tokens > 0 && c.last > c.start) {
    tps = (tokens * 1000) / (c.last - c.start);
    bound = true;
  }
  return {
    ...cell,
    ttft_ms: c.first === null ? null : c.first - c.start,
    tokens_per_second: tps,
    rate_is_bound: bound,
    tokens,
    total_ms: c.now - c.start,
  };
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);
const str = (x: unknown): string => (typeof x === "string" ? x : "");
const statuses: CellStatus[] = ["idle", "queued", "running", "done", "error", "stopped"];

// A cell read back from a saved body; a run that was cut off when it was saved reads as stopped.
export function cellFrom(x: unknown): CellResult {
  const o = (x && typeof x === "object" ? x : {}) as Record<string, unknown>;
  let status = statuses.includes(o.status as CellStatus) ? (o.status as CellStatus) : "idle";
  if (status === "running" || status === "queued") status = "stopped";
  return {
    status,
    answer: str(o.answer),
    ttft_ms: num(o.ttft_ms),
    tokens_per_second: num(o.tokens_per_second),
    rate_is_bound: o.rate_is_bound === true,
    tokens: num(o.tokens) ?? 0,
    total_ms: num(o.total_ms),
    finish: typeof o.finish === "string" ? o.finish : null,
    error: str(o.error),
  };
}

// ---- the table of values ------------------------------------------------------------

export type Row = Record<string, FormValue>;

// The table's columns: the variables of version A, then those only B has (by name).
export function tableColumns(a: TemplateVariable[], b: TemplateVariable[]): TemplateVariable[] {
  const out: TemplateVariable[] = [];
  const seen = new Set<string>();
  for (const v of [...a, ...b]) {
    if (!isVariableName(v.name) || seen.has(v.name)) continue;
    seen.add(v.name);
    out.push(v);
  }
  return out;
}

// An empty value for a column's input: false for a switch, the first option of a select, else blank.
export function blankValue(v: TemplateVariable): FormValue {
  if (v.type === "boolean") return false;
  if (v.type === "number") return null;
  if (v.type === "select") return v.options?.[0] ?? "";
  return "";
}

// A new row: a copy of `from` (the row above, or the form's values) over blanks for every column.
export function newRow(columns: TemplateVariable[], from: Row | null = null): Row {
  const row: Row = {};
  for (const v of columns) row[v.name] = from && v.name in from && from[v.name] !== undefined ? from[v.name] : blankValue(v);
  return row;
}

// The rows after the columns changed (other versions picked): kept values stay, new columns start blank.
export function fitRows(rows: Row[], columns: TemplateVariable[]): Row[] {
  return rows.map((r) => newRow(columns, r));
}

export function addRow(rows: Row[], columns: TemplateVariable[], at: number = rows.length): Row[] {
  const from = rows[Math.min(at, rows.length) - 1] ?? null;
  const out = rows.slice();
  out.splice(at, 0, newRow(columns, from));
  return out;
}

export function removeRow(rows: Row[], i: number): Row[] {
  return rows.filter((_, k) => k !== i);
}

export function setCellValue(rows: Row[], i: number, name: string, value: FormValue): Row[] {
  return rows.map((r, k) => (k === i ? { ...r, [name]: value } : r));
}

// What one version is sent for a row: only its own variables (the server refuses others), with
// empty optional text left out so that its defaults apply, as the editor's form does.
export function valuesFor(variables: TemplateVariable[], row: Row): Record<string, FormValue> {
  return buildValues(variables, row);
}

// ---- saved bodies ---------------------------------------------------------------------

export interface ModelsSetup {
  template: PromptTemplate;
  template_version: number | null; // the saved version the editor held, null for unsaved changes
  values: Record<string, FormValue>;
  models: string[];
}

export interface ModelsBody extends ModelsSetup {
  results: (CellResult & { model: string })[];
}

export interface VersionSide {
  version: number;
  template: PromptTemplate;
}

export interface VersionsBody {
  model: string;
  a: VersionSide;
  b: VersionSide;
  variables: string[];
  rows: { values: Row; a: CellResult; b: CellResult }[];
}

export function modelsBody(setup: ModelsSetup, results: CellResult[]): ModelsBody {
  return {
    template: setup.template,
    template_version: setup.template_version,
    values: setup.values,
    models: setup.models.slice(),
    results: setup.models.map((model, i) => ({ model, ...(results[i] ?? emptyCell()) })),
  };
}

export function versionsBody(
  model: string,
  a: VersionSide,
  b: VersionSide,
  columns: TemplateVariable[],
  rows: Row[],
  results: { a: CellResult; b: CellResult }[],
): VersionsBody {
  return {
    model,
    a,
    b,
    variables: columns.map((v) => v.name),
    rows: rows.map((values, i) => ({ values, a: results[i]?.a ?? emptyCell(), b: results[i]?.b ?? emptyCell() })),
  };
}

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x);
const templateOf = (x: unknown): PromptTemplate =>
  isObject(x) && Array.isArray(x.blocks) && Array.isArray(x.variables)
    ? (x as unknown as PromptTemplate)
    : { name: "", blocks: [], variables: [] };
const rowOf = (x: unknown): Row => {
  const out: Row = {};
  if (!isObject(x)) return out;
  for (const [k, v] of Object.entries(x))
    if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
  return out;
};

// A saved "models" body read back (a body some other client saved may lack fields: they get defaults).
export function parseModelsBody(x: unknown): ModelsBody {
  const o = isObject(x) ? x : {};
  const models = (Array.isArray(o.models) ? o.models : []).filter((m): m is string => typeof m === "string").slice(0, MAX_MODELS);
  const results = Array.isArray(o.results) ? o.results : [];
  return {
    template: templateOf(o.template),
    template_version: num(o.template_version),
    values: rowOf(o.values),
    models,
    results: models.map((model, i) => ({ model, ...cellFrom(results[i]) })),
  };
}

export function parseVersionsBody(x: unknown): VersionsBody {
  const o = isObject(x) ? x : {};
  const side = (s: unknown): VersionSide => {
    const so = isObject(s) ? s : {};
    return { version: num(so.version) ?? 0, template: templateOf(so.template) };
  };
  return {
    model: str(o.model),
    a: side(o.a),
    b: side(o.b),
    variables: (Array.isArray(o.variables) ? o.variables : []).filter((n): n is string => typeof n === "string"),
    rows: (Array.isArray(o.rows) ? o.rows : []).map((r) => {
      const ro = isObject(r) ? r : {};
      return { values: rowOf(ro.values), a: cellFrom(ro.a), b: cellFrom(ro.b) };
    }),
  };
}

// A title when the user gave none: what was compared.
export function defaultTitle(kind: "models" | "versions", name: string, detail: string[]): string {
  const what = kind === "models" ? detail.join(" vs ") : detail.map((d) => `v${d}`).join(" vs ");
  let title = `${name || "Untitled"}: ${what}`;
  const bytes = (t: string) => new TextEncoder().encode(t).length;
  while (bytes(title) > 200) title = Array.from(title).slice(0, -1).join("");
  return title;
}

// A row's answer pair in a few words for screen readers and the summary line.
export function rowVerdict(a: CellResult, b: CellResult): string {
  if (a.status !== "done" || b.status !== "done") return "";
  return a.answer === b.answer ? "same answer" : "answers differ";
}
