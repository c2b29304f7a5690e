import { describe, expect, test } from "vitest";
import type { TemplateVariable } from "./architect";
import {
  addRow,
  cellFrom,
  defaultTitle,
  emptyCell,
  fitRows,
  modelsBody,
  newRow,
  parseModelsBody,
  parseVersionsBody,
  removeRow,
  rowVerdict,
  setCellValue,
  tableColumns,
  valuesFor,
  versionsBody,
  withStats,
} from "./compare";

const topic: TemplateVariable = { name: "topic", type: "text", required: true };
const tone: TemplateVariable = { name: "tone", type: "select", options: ["warm", "dry"] };
const n: TemplateVariable = { name: "n", type: "number", min: 1, max: 5 };
const brief: TemplateVariable = { name: "brief", type: "boolean" };
const notes: TemplateVariable = { name: "notes", type: "multiline", default: "none" };

describe("table of values", () => {
  test("columns: A's variables, then those only B has, by name", () => {
    const cols = tableColumns([topic, tone], [{ ...topic, label: "Other" }, n, { name: "bad name", type: "text" }]);
    expect(cols.map((c) => c.name)).toEqual(["topic", "tone", "n"]);
    expect(cols[0].label).toBeUndefined(); // A's definition wins
  });

  test("a new row starts from the form's values over blanks of each type", () => {
    const cols = [topic, tone, n, brief, notes];
    expect(newRow(cols)).toEqual({ topic: "", tone: "warm", n: null, brief: false, notes: "" });
    expect(newRow(cols, { topic: "cats", n: 3, other: "x" })).toEqual({ topic: "cats", tone: "warm", n: 3, brief: false, notes: "" });
  });

  test("add copies the row above, remove and edit leave the others alone", () => {
    const cols = [topic, n];
    let rows = [newRow(cols, { topic: "cats", n: 2 })];
    rows = addRow(rows, cols);
    expect(rows).toEqual([{ topic: "cats", n: 2 }, { topic: "cats", n: 2 }]);
    rows = setCellValue(rows, 1, "topic", "dogs");
    rows = addRow(rows, cols, 0); // at the top: nothing above, blanks
    expect(rows).toEqual([{ topic: "", n: null }, { topic: "cats", n: 2 }, { topic: "dogs", n: 2 }]);
    const before = rows;
    rows = removeRow(rows, 0);
    expect(rows).toEqual([{ topic: "cats", n: 2 }, { topic: "dogs", n: 2 }]);
    expect(before).toHaveLength(3); // not changed in place
  });

  test("rows follow new columns: kept values stay, dropped columns go", () => {
    expect(fitRows([{ topic: "cats", n: 2 }], [topic, tone])).toEqual([{ topic: "cats", tone: "warm" }]);
  });

  test("each version gets only its own variables; empty optional text is left out", () => {
    const row = { topic: "cats", tone: "dry", n: null, notes: "" };
    expect(valuesFor([topic, notes], row)).toEqual({ topic: "cats" });
    expect(valuesFor([topic, tone, n], row)).toEqual({ topic: "cats", tone: "dry" });
  });
});

describe("cells", () => {
  test("figures from a run's clock; the usage count wins when larger", () => {
    const c = withStats(emptyCell("running"), { start: 1000, first: 1120, last: 1345, now: 1400, tokens: 9, usage: 10 });
    expect(c).toMatchObject({ status: "running", ttft_ms: 120, tokens: 10, tokens_per_second: 40, rate_is_bound: false, total_ms: 400 });
    const waiting = withStats(emptyCell(), { start: 0, first: null, last: null, now: 5, tokens: 0, usage: null });
    expect(waiting).toMatchObject({ ttft_ms: null, tokens_per_second: null, tokens: 0, total_ms: 5 });
  });

  test("tokens that all came at once: the rate over the whole request, not the burst", () => {
    const c = withStats(emptyCell(), { start: 0, first: 150, last: 151, now: 160, tokens: 2, usage: 20 });
    expect(c.tokens_per_second).toBeCloseTo((20 * 1000) / 151);
    expect(c.rate_is_bound).toBe(true);
    expect(withStats(emptyCell(), { start: 0, first: 150, last: 150, now: 150, tokens: 1, usage: null }).tokens_per_second).toBeCloseTo(1000 / 150);
  });

  test("a saved cell reads back; one cut off while running reads as stopped; junk gets defaults", () => {
    expect(cellFrom({ status: "running", answer: "Hi", tokens: 2, ttft_ms: 5 })).toMatchObject({ status: "stopped", answer: "Hi", tokens: 2, ttft_ms: 5 });
    expect(cellFrom("nope")).toEqual(emptyCell());
    expect(cellFrom({ status: "done", tokens: "x", tokens_per_second: Infinity })).toMatchObject({ status: "done", tokens: 0, tokens_per_second: null });
  });

  test("a row's verdict once both sides are done", () => {
    const done = (answer: string) => ({ ...emptyCell("done"), answer });
    expect(rowVerdict(done("a"), done("a"))).toBe("same answer");
    expect(rowVerdict(done("a"), done("b"))).toBe("answers differ");
    expect(rowVerdict(done("a"), emptyCell("running"))).toBe("");
  });
});

describe("saved bodies", () => {
  const template = { name: "Story", blocks: [{ type: "user" as const, text: "{{topic}}" }], variables: [topic] };

  test("models: setup and one result per model, and back", () => {
    const cell = { ...emptyCell("done"), answer: "Once", tokens: 4, ttft_ms: 10, tokens_per_second: 50, total_ms: 90, finish: "stop" };
    const body = modelsBody({ template, template_version: 2, values: { topic: "cats" }, models: ["m1", "m2"] }, [cell]);
    expect(body.results).toEqual([
      { model: "m1", ...cell },
      { model: "m2", ...emptyCell() },
    ]);
    const back = parseModelsBody(JSON.parse(JSON.stringify(body)));
    expect(back).toEqual(body);
  });

  test("models: at most four, junk tolerated", () => {
    const back = parseModelsBody({ models: ["a", "b", 3, "c", "d", "e"], results: "x" });
    expect(back.models).toEqual(["a", "b", "c", "d"]);
    expect(back.results).toHaveLength(4);
    expect(back.template.blocks).toEqual([]);
    expect(parseModelsBody(null).models).toEqual([]);
  });

  test("versions: both sides, the columns and every row's pair, and back", () => {
    const a = { version: 1, template };
    const b = { version: 2, template: { ...template, variables: [topic, tone] } };
    const rows = [{ topic: "cats", tone: "warm" }, { topic: "dogs", tone: "dry" }];
    const r0 = { a: { ...emptyCell("done"), answer: "A0" }, b: { ...emptyCell("done"), answer: "B0" } };
    const body = versionsBody("m1", a, b, tableColumns(a.template.variables, b.template.variables), rows, [r0]);
    expect(body.variables).toEqual(["topic", "tone"]);
    expect(body.rows).toEqual([
      { values: rows[0], ...r0 },
      { values: rows[1], a: emptyCell(), b: emptyCell() },
    ]);
    expect(parseVersionsBody(JSON.parse(JSON.stringify(body)))).toEqual(body);
    expect(parseVersionsBody({}).rows).toEqual([]);
  });

  test("a default title names what was compared, within the server's 200 bytes", () => {
    expect(defaultTitle("models", "Story", ["m1", "m2"])).toBe("Story: m1 vs m2");
    expect(defaultTitle("versions", "", ["1", "3"])).toBe("Untitled: v1 vs v3");
    const long = defaultTitle("models", "é".repeat(300), ["m"]);
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(200);
  });
});
