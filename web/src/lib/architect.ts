// The Prompt Architect's pure logic: the template shape the server takes
// (src/prompts/template.hpp), a draft of it that the editor changes,
// {{placeholder}} parsing as the server scans it, where a server error's
// JSON path points, the values a generated form sends, and the diff's rows.

export type BlockType = "system" | "context" | "user" | "examples" | "parameters";
export type VariableType = "text" | "multiline" | "select" | "number" | "boolean";

export const blockTypes: { type: BlockType; label: string; help: string }[] = [
  { type: "system", label: "System", help: "How the model should behave (a system message)" },
  { type: "context", label: "Context", help: "Material to work from (a user message; left out when its optional variables are empty)" },
  { type: "user", label: "User", help: "The request itself (a user message)" },
  { type: "examples", label: "Examples", help: "Question and answer pairs shown to the model first" },
  { type: "parameters", label: "Parameters", help: "Sampling settings for the run (at most one)" },
];

export const variableTypes: { type: VariableType; label: string }[] = [
  { type: "text", label: "Text (one line)" },
  { type: "multiline", label: "Multiline text" },
  { type: "select", label: "Select (options)" },
  { type: "number", label: "Number (slider)" },
  { type: "boolean", label: "Boolean (toggle)" },
];

// ---- the server's JSON shape ---------------------------------------------------

export interface ExamplePair {
  user: string;
  assistant: string;
}

export interface TemplateBlock {
  type: BlockType;
  text?: string;
  pairs?: ExamplePair[];
  [param: string]: unknown; // a parameters block's fields
}

export interface TemplateVariable {
  name: string;
  type: VariableType;
  label?: string;
  options?: string[];
  min?: number;
  max?: number;
  step?: number;
  default?: unknown;
  required?: boolean;
}

export interface PromptTemplate {
  id?: string;
  name: string;
  description?: string;
  tags?: string[];
  version?: number;
  blocks: TemplateBlock[];
  variables: TemplateVariable[];
  message?: string;
  created_at?: number;
}

export interface VersionInfo {
  version: number;
  name: string;
  description: string;
  tags: string[];
  message?: string;
  created_at: number;
}

export interface RenderedMessage {
  role: string;
  content: string;
}

export interface BuildResult {
  messages: RenderedMessage[];
  params: Record<string, unknown>;
}

// ---- the editor's draft ---------------------------------------------------------

// The parameters a parameters block edits with its own fields; others it keeps as they are.
export const paramFields: { key: string; label: string; min?: number; max?: number; step?: number; integer?: boolean }[] = [
  { key: "temperature", label: "Temperature", min: 0, max: 2, step: 0.05 },
  { key: "top_p", label: "Top p", min: 0, max: 1, step: 0.01 },
  { key: "top_k", label: "Top k", min: 0, step: 1, integer: true },
  { key: "max_tokens", label: "Max tokens", min: 1, step: 1, integer: true },
  { key: "seed", label: "Seed", step: 1, integer: true },
];

export interface DraftBlock {
  uid: string;
  type: BlockType;
  text: string;
  pairs: ExamplePair[];
  // parameters: the edited fields as typed (strings, "" = unset), `stop` one per line, and the rest kept
  params: Record<string, string>;
  stop: string;
  extra: Record<string, unknown>;
}

export interface DraftVariable {
  uid: string;
  name: string;
  type: VariableType;
  label: string;
  options: string; // one per line
  min: string;
  max: string;
  step: string;
  default: string | boolean | null; // text as typed; booleans as true/false; null = none
  required: boolean;
}

export interface Draft {
  id: string; // "" until saved
  name: string;
  description: string;
  tags: string;
  blocks: DraftBlock[];
  variables: DraftVariable[];
}

let uidCounter = 0;
export function uid(prefix = "u"): string {
  uidCounter += 1;
  return `${prefix}${uidCounter}`;
}

export function newBlock(type: BlockType): DraftBlock {
  const text =
    type === "system" ? "You are a helpful assistant." : type === "context" ? "" : type === "user" ? "" : "";
  return {
    uid: uid("b"),
    type,
    text,
    pairs: type === "examples" ? [{ user: "", assistant: "" }] : [],
    params: type === "parameters" ? { temperature: "0.7", max_tokens: "256" } : {},
    stop: "",
    extra: {},
  };
}

export function newVariable(existing: DraftVariable[], name = ""): DraftVariable {
  let n = name;
  if (!n) {
    let i = existing.length + 1;
    while (existing.some((v) => v.name === `var${i}`)) i++;
    n = `var${i}`;
  }
  return { uid: uid("v"), name: n, type: "text", label: "", options: "", min: "", max: "", step: "", default: null, required: false };
}

export function emptyDraft(): Draft {
  const user = newBlock("user");
  user.text = "{{request}}";
  const v = newVariable([], "request");
  v.type = "multiline";
  v.label = "Request";
  v.required = true;
  v.default = "Write a short story about a brave little robot.";
  return { id: "", name: "Untitled prompt", description: "", tags: "", blocks: [newBlock("system"), user], variables: [v] };
}

function numText(x: unknown): string {
  return typeof x === "number" && Number.isFinite(x) ? String(x) : "";
}

export function draftFrom(t: PromptTemplate): Draft {
  return {
    id: t.id ?? "",
    name: t.name ?? "",
    description: t.description ?? "",
    tags: (t.tags ?? []).join(", "),
    blocks: (t.blocks ?? []).map((b) => {
      const d = newBlock(b.type);
      d.text = typeof b.text === "string" ? b.text : "";
      d.pairs = Array.isArray(b.pairs) ? b.pairs.map((p) => ({ user: p.user ?? "", assistant: p.assistant ?? "" })) : [];
      d.params = {};
      d.extra = {};
      if (b.type === "parameters") {
        for (const [k, v] of Object.entries(b)) {
          if (k === "type") continue;
          if (paramFields.some((f) => f.key === k) && typeof v === "number") d.params[k] = String(v);
          else if (k === "stop" && (Array.isArray(v) || typeof v === "string"))
            d.stop = ([] as string[])
              .concat(v as string[])
              .map(escapeStop)
              .join("\n");
          else d.extra[k] = v;
        }
      }
      return d;
    }),
    variables: (t.variables ?? []).map((v) => ({
      uid: uid("v"),
      name: v.name,
      type: v.type ?? "text",
      label: v.label ?? "",
      options: (v.options ?? []).join("\n"),
      min: numText(v.min),
      max: numText(v.max),
      step: numText(v.step),
      default:
        v.default === null || v.default === undefined
          ? null
          : typeof v.default === "boolean"
            ? v.default
            : String(v.default),
      required: !!v.required,
    })),
  };
}

// Stop strings one a line: a newline in one is written \n, a backslash \\.
export function escapeStop(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
export function unescapeStop(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}

// A number from a field as typed; undefined for "" or what is not a number.
export function parseNumber(s: string): number | undefined {
  if (s.trim() === "") return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}

export function optionList(s: string): string[] {
  return s
    .split("\n")
    .map((o) => o.trim())
    .filter((o) => o !== "");
}

export function templateFrom(d: Draft, message = ""): PromptTemplate {
  const t: PromptTemplate = {
    name: d.name,
    description: d.description,
    tags: d.tags
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
    blocks: d.blocks.map((b) => {
      if (b.type === "examples") return { type: b.type, pairs: b.pairs.map((p) => ({ user: p.user, assistant: p.assistant })) };
      if (b.type === "parameters") {
        const out: TemplateBlock = { type: "parameters", ...b.extra };
        for (const f of paramFields) {
          const x = parseNumber(b.params[f.key] ?? "");
          if (x !== undefined) out[f.key] = x;
          else if ((b.params[f.key] ?? "").trim() !== "") out[f.key] = b.params[f.key]; // the server names the problem
        }
        const stops = b.stop
          .split("\n")
          .filter((s) => s !== "")
          .map(unescapeStop);
        if (stops.length) out.stop = stops;
        return out;
      }
      return { type: b.type, text: b.text };
    }),
    variables: d.variables.map((v) => {
      const out: TemplateVariable = { name: v.name, type: v.type, required: v.required };
      if (v.label) out.label = v.label;
      if (v.type === "select") out.options = optionList(v.options);
      if (v.type === "number") {
        for (const k of ["min", "max", "step"] as const) {
          const x = parseNumber(v[k]);
          if (x !== undefined) out[k] = x;
        }
      }
      out.default = draftDefault(v);
      return out;
    }),
  };
  if (d.id) t.id = d.id;
  if (message.trim()) t.message = message.trim();
  return t;
}

// A variable's default as the server takes it (null: none).
export function draftDefault(v: DraftVariable): unknown {
  if (v.default === null) return null;
  if (v.type === "boolean") return typeof v.default === "boolean" ? v.default : v.default === "true";
  const s = String(v.default);
  if (v.type === "number") {
    if (s.trim() === "") return null;
    const x = Number(s);
    return Number.isFinite(x) ? x : s; // a non-number goes as typed: the server says what is wrong
  }
  if (v.type === "select") return s === "" ? null : s;
  return s === "" ? null : s;
}

// What the server would store, for "is there anything to save?" (id and version aside).
export function contentKey(t: PromptTemplate & { unchanged?: boolean }): string {
  const { id: _id, version: _v, created_at: _c, message: _m, unchanged: _u, ...rest } = t;
  void _u;
  void _id;
  void _v;
  void _c;
  void _m;
  return JSON.stringify(normalize(rest));
}

function normalize(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(normalize);
  if (x && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) {
      const v = (x as Record<string, unknown>)[k];
      if (v === undefined) continue;
      if (k === "required" && v === false) continue;
      if (k === "default" && v === null) continue;
      if (k === "label" && v === "") continue;
      if (k === "description" && v === "") continue;
      if (k === "tags" && Array.isArray(v) && v.length === 0) continue;
      out[k] = normalize(v);
    }
    return out;
  }
  return x;
}

export function move<T>(list: T[], from: number, to: number): T[] {
  const out = list.slice();
  if (from < 0 || from >= out.length) return out;
  const [item] = out.splice(from, 1);
  out.splice(Math.max(0, Math.min(to, out.length)), 0, item);
  return out;
}

// Where a dragged item lands: `before` is the index of the gap it is dropped
// in (0..length); moving an item down past itself counts one less.
export function dropIndex(from: number, before: number): number {
  return from < before ? before - 1 : before;
}

// ---- placeholders ---------------------------------------------------------------

export type Segment =
  | { kind: "text"; text: string }
  | { kind: "var"; text: string; name: string; defined: boolean }
  | { kind: "escape"; text: string }
  | { kind: "bad"; text: string };

export function isVariableName(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(s);
}

// The text cut into runs as the server scans it (src/prompts/placeholder.cpp):
// `\{{` is literal braces, `{{ name }}` a placeholder, and a `{{` that is not
// one is marked bad up to its `}}` (or the end).
export function segments(text: string, defined: Set<string> | null = null): Segment[] {
  const out: Segment[] = [];
  let plain = 0;
  let i = 0;
  const flush = (end: number) => {
    if (end > plain) out.push({ kind: "text", text: text.slice(plain, end) });
  };
  while (i < text.length) {
    if (text.startsWith("\\{{", i)) {
      flush(i);
      out.push({ kind: "escape", text: "\\{{" });
      i += 3;
      plain = i;
      continue;
    }
    if (!text.startsWith("{{", i)) {
      i++;
      continue;
    }
    flush(i);
    const close = text.indexOf("}}", i + 2);
    const end = close < 0 ? text.length : close + 2;
    const inner = close < 0 ? text.slice(i + 2) : text.slice(i + 2, close);
    const name = inner.replace(/^ +| +$/g, "");
    if (close >= 0 && isVariableName(name)) {
      out.push({ kind: "var", text: text.slice(i, end), name, defined: defined ? defined.has(name) : true });
    } else {
      out.push({ kind: "bad", text: text.slice(i, end) });
    }
    i = end;
    plain = i;
  }
  flush(text.length);
  return out;
}

export function placeholderNames(text: string): string[] {
  const seen: string[] = [];
  for (const s of segments(text)) if (s.kind === "var" && !seen.includes(s.name)) seen.push(s.name);
  return seen;
}

// The texts of a block that may hold placeholders.
export function blockTexts(b: Pick<DraftBlock, "type" | "text" | "pairs">): string[] {
  if (b.type === "examples") return b.pairs.flatMap((p) => [p.user, p.assistant]);
  if (b.type === "parameters") return [];
  return [b.text];
}

// Names a block uses that no variable defines, in order of appearance.
export function undefinedIn(b: Pick<DraftBlock, "type" | "text" | "pairs">, variables: { name: string }[]): string[] {
  const names = new Set(variables.map((v) => v.name));
  const out: string[] = [];
  for (const t of blockTexts(b)) for (const n of placeholderNames(t)) if (!names.has(n) && !out.includes(n)) out.push(n);
  return out;
}

// Variables that no block uses (a hint, not an error).
export function unusedVariables(blocks: DraftBlock[], variables: DraftVariable[]): string[] {
  const used = new Set(blocks.flatMap((b) => blockTexts(b).flatMap(placeholderNames)));
  // a text default may use other variables
  for (const v of variables) if (typeof v.default === "string") for (const n of placeholderNames(v.default)) used.add(n);
  return variables.map((v) => v.name).filter((n) => n && !used.has(n));
}

// ---- where a server error points ---------------------------------------------------

export type ErrorTarget =
  | { kind: "block"; index: number; path: string }
  | { kind: "variable"; index: number; field: string; path: string }
  | { kind: "value"; name: string; path: string }
  | { kind: "field"; field: string; path: string }
  | { kind: "general"; path: string };

// The `param` of a 400 (a JSON path such as "template.blocks[2].text",
// "template.variables[0].default", "values.who") -> what it is about.
export function errorTarget(param: string | undefined | null): ErrorTarget {
  const path = param ?? "";
  const p = path.replace(/^template\.?/, "");
  let m = /^blocks\[(\d+)\]/.exec(p);
  if (m) return { kind: "block", index: Number(m[1]), path };
  m = /^variables\[(\d+)\](?:\.(\w+))?/.exec(p);
  if (m) return { kind: "variable", index: Number(m[1]), field: m[2] ?? "", path };
  m = /^values\.(.+)$/.exec(p);
  if (m) return { kind: "value", name: m[1], path };
  m = /^(name|description|tags|id|message)\b/.exec(p);
  if (m) return { kind: "field", field: m[1], path };
  return { kind: "general", path };
}

// A server message without the path it starts with ("blocks[1].text: {{x}} ..." -> "{{x}} ...").
export function errorText(message: string): string {
  let m = message;
  for (let prev = ""; prev !== m; ) {
    prev = m;
    m = m.replace(/^template: /, "").replace(/^[\w.[\]]+: /, "");
  }
  // The server counts blocks from 0 ("in block 2"); the editor numbers them from 1 and shows the error at its block.
  return m.replace(/ in block \d+ /, " ");
}

// ---- the generated form ---------------------------------------------------------

export type FormValue = string | number | boolean | null;

export function initialValue(v: TemplateVariable): FormValue {
  const d = v.default;
  if (v.type === "boolean") return typeof d === "boolean" ? d : false;
  if (v.type === "number") return typeof d === "number" ? d : null;
  if (v.type === "select") return typeof d === "string" ? d : (v.options?.[0] ?? "");
  // A text default may use other variables: the form starts empty and the server expands the default.
  return typeof d === "string" && !d.includes("{{") ? d : "";
}

// The form's values kept across edits of the variables: a value stays while its
// variable keeps its name and type and the user changed it from the old default;
// new or retyped variables (and untouched ones whose default changed) start from their default.
export function reconcileValues(
  variables: TemplateVariable[],
  values: Record<string, FormValue>,
  previous: Record<string, TemplateVariable> = {},
): Record<string, FormValue> {
  const out: Record<string, FormValue> = {};
  for (const v of variables) {
    if (!isVariableName(v.name)) continue;
    const before = previous[v.name];
    const keep = v.name in values && before !== undefined && before.type === v.type && values[v.name] !== initialValue(before);
    let x = keep ? values[v.name] : initialValue(v);
    if (v.type === "select" && typeof x === "string" && v.options && !v.options.includes(x)) x = initialValue(v);
    out[v.name] = x;
  }
  return out;
}

// The values a build sends: empty optional fields are left out so that the
// template's defaults apply; a text field the user emptied where there is a
// default is left out too (the default shows in its placeholder).
export function buildValues(variables: TemplateVariable[], values: Record<string, FormValue>): Record<string, FormValue> {
  const out: Record<string, FormValue> = {};
  for (const v of variables) {
    if (!isVariableName(v.name) || !(v.name in values)) continue;
    const x = values[v.name];
    if (x === null || x === undefined) continue;
    if ((v.type === "text" || v.type === "multiline") && x === "" && !v.required) continue;
    if (v.type === "number" && typeof x === "number" && !Number.isFinite(x)) continue;
    out[v.name] = x;
  }
  return out;
}

// A number variable's slider: its range and step (a hundredth of the range when no step is given).
export function sliderOf(v: TemplateVariable): { min: number; max: number; step: number | "any" } | null {
  if (typeof v.min !== "number" || typeof v.max !== "number" || v.max <= v.min) return null;
  const step = typeof v.step === "number" && v.step > 0 ? v.step : Number.isInteger(v.min) && Number.isInteger(v.max) && v.max - v.min >= 20 ? 1 : "any";
  return { min: v.min, max: v.max, step };
}

// ---- streaming runs -------------------------------------------------------------

export interface RunStats {
  ttftMs: number | null; // request to first token
  tokens: number;
  tokensPerSecond: number | null; // after the first token
  totalMs: number;
}

export function runStats(start: number, firstAt: number | null, lastAt: number | null, tokens: number, now: number): RunStats {
  const ttftMs = firstAt === null ? null : firstAt - start;
  let tps: number | null = null;
  if (firstAt !== null && lastAt !== null && tokens > 1 && lastAt > firstAt) tps = ((tokens - 1) * 1000) / (lastAt - firstAt);
  return { ttftMs, tokens, tokensPerSecond: tps, totalMs: now - start };
}

// ---- diffs ------------------------------------------------------------------------

export interface TemplateDiff {
  id: string;
  from: number;
  to: number;
  fields: Record<string, { old: unknown; new: unknown }>;
  blocks: {
    added: { index: number; block: TemplateBlock }[];
    removed: { index: number; block: TemplateBlock }[];
    changed: { index: number; old: TemplateBlock; new: TemplateBlock }[];
  };
  variables: {
    added: TemplateVariable[];
    removed: TemplateVariable[];
    changed: { name: string; old: TemplateVariable; new: TemplateVariable }[];
  };
}

export type LineOp = { op: "same" | "add" | "del"; text: string };

// A line diff (longest common subsequence), for a block's text.
export function lineDiff(a: string, b: string): LineOp[] {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  if (n * m > 250000) return [...x.map((t) => ({ op: "del" as const, text: t })), ...y.map((t) => ({ op: "add" as const, text: t }))];
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: LineOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: "same", text: x[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: "del", text: x[i++] });
    else out.push({ op: "add", text: y[j++] });
  }
  while (i < n) out.push({ op: "del", text: x[i++] });
  while (j < m) out.push({ op: "add", text: y[j++] });
  return out;
}

// A block as text lines, so that any two blocks can be line-diffed.
export function blockLines(b: TemplateBlock): string {
  if (b.type === "examples") return (b.pairs ?? []).map((p, k) => `Example ${k + 1} user: ${p.user}\nExample ${k + 1} assistant: ${p.assistant}`).join("\n");
  if (b.type === "parameters")
    return Object.entries(b)
      .filter(([k]) => k !== "type")
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join("\n");
  return b.text ?? "";
}

// A variable's changed properties: [{key, old, new}].
export function variableChanges(a: TemplateVariable, b: TemplateVariable): { key: string; old: string; new: string }[] {
  const keys = ["type", "label", "options", "min", "max", "step", "default", "required"] as const;
  const show = (x: unknown) => (x === undefined || x === null ? "–" : Array.isArray(x) ? x.join(", ") : typeof x === "string" ? x : JSON.stringify(x));
  const out: { key: string; old: string; new: string }[] = [];
  for (const k of keys) {
    const o = show(a[k]);
    const n = show(b[k]);
    if (o !== n) out.push({ key: k, old: o, new: n });
  }
  return out;
}

export function diffIsEmpty(d: TemplateDiff): boolean {
  return (
    Object.keys(d.fields).length === 0 &&
    !d.blocks.added.length &&
    !d.blocks.removed.length &&
    !d.blocks.changed.length &&
    !d.variables.added.length &&
    !d.variables.removed.length &&
    !d.variables.changed.length
  );
}

export function blockTitle(b: Pick<TemplateBlock, "type">, index: number): string {
  const t = blockTypes.find((x) => x.type === b.type);
  return `${index + 1}. ${t ? t.label : b.type}`;
}

// ---- files --------------------------------------------------------------------

// A template as a file to download (what the server stores, without store-only fields).
export function exportText(t: PromptTemplate): string {
  const { created_at: _c, ...rest } = t;
  void _c;
  return JSON.stringify(rest, null, 2) + "\n";
}

export function exportName(t: PromptTemplate): string {
  const base = (t.id || t.name || "template").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return `${base || "template"}.json`;
}

// A file's text as a template to import: the fields a template has, or an error saying what is wrong.
export function parseImport(text: string): PromptTemplate {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new Error(`the file is not JSON: ${(e as Error).message}`);
  }
  if (!j || typeof j !== "object" || Array.isArray(j)) throw new Error("the file holds no template (a JSON object with name and blocks)");
  const t = j as PromptTemplate;
  if (typeof t.name !== "string" || !Array.isArray(t.blocks)) throw new Error("the file holds no template (a JSON object with name and blocks)");
  const { created_at: _c, version: _v, unchanged: _u, ...rest } = j as PromptTemplate & { unchanged?: unknown };
  void _c;
  void _v;
  void _u;
  return rest as PromptTemplate;
}
