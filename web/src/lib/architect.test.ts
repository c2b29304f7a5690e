import { describe, expect, test } from "vitest";
import {
  blockLines,
  buildValues,
  contentKey,
  diffIsEmpty,
  draftFrom,
  dropIndex,
  emptyDraft,
  escapeStop,
  unescapeStop,
  errorTarget,
  errorText,
  exportName,
  exportText,
  initialValue,
  lineDiff,
  move,
  newBlock,
  parseImport,
  placeholderNames,
  reconcileValues,
  runStats,
  segments,
  sliderOf,
  templateFrom,
  undefinedIn,
  unusedVariables,
  variableChanges,
  type PromptTemplate,
  type TemplateDiff,
  type TemplateVariable,
} from "./architect";

const sample: PromptTemplate = {
  id: "greet",
  name: "Greet",
  description: "Says hello",
  tags: ["demo", "test"],
  version: 3,
  blocks: [
    { type: "system", text: "You speak {{ language }}." },
    { type: "examples", pairs: [{ user: "Hi {{who}}", assistant: "Hello." }] },
    { type: "user", text: "Greet {{who}} {{times}} times." },
    { type: "parameters", temperature: 0.2, max_tokens: 64, stop: ["\n\n"], response_format: { type: "text" } },
  ],
  variables: [
    { name: "language", type: "select", label: "Language", options: ["English", "French"], default: "English", required: true },
    { name: "who", type: "text", label: "", default: "world", required: false },
    { name: "times", type: "number", label: "Times", min: 1, max: 5, step: 1, default: 2, required: false },
    { name: "formal", type: "boolean", label: "", default: null, required: false },
  ],
};

describe("placeholders", () => {
  test("segments mark defined, undefined, escaped and malformed placeholders as the server scans them", () => {
    const defined = new Set(["who"]);
    expect(segments("Hi {{who}} and {{ them }}!", defined)).toEqual([
      { kind: "text", text: "Hi " },
      { kind: "var", text: "{{who}}", name: "who", defined: true },
      { kind: "text", text: " and " },
      { kind: "var", text: "{{ them }}", name: "them", defined: false },
      { kind: "text", text: "!" },
    ]);
    expect(segments("a \\{{b}} c")).toEqual([
      { kind: "text", text: "a " },
      { kind: "escape", text: "\\{{" },
      { kind: "text", text: "b}} c" },
    ]);
    expect(segments("x {{1bad}} y {{open")).toEqual([
      { kind: "text", text: "x " },
      { kind: "bad", text: "{{1bad}}" },
      { kind: "text", text: " y " },
      { kind: "bad", text: "{{open" },
    ]);
    expect(segments("")).toEqual([]);
    // every character is in exactly one segment (the mirror lines up with the textarea)
    const text = "A {{x}}\n\\{{ {{y }} {{z";
    expect(segments(text).map((s) => s.text).join("")).toBe(text);
  });

  test("names in order without repeats; undefined ones per block; unused variables", () => {
    expect(placeholderNames("{{a}} {{b}} {{a}} {{ c }}")).toEqual(["a", "b", "c"]);
    const block = { type: "examples" as const, text: "", pairs: [{ user: "{{q}}", assistant: "{{a}} {{known}}" }] };
    expect(undefinedIn(block, [{ name: "known" }])).toEqual(["q", "a"]);
    expect(undefinedIn({ type: "parameters", text: "{{x}}", pairs: [] }, [])).toEqual([]);
    const d = draftFrom(sample);
    expect(unusedVariables(d.blocks, d.variables)).toEqual(["formal"]);
  });
});

describe("drafts", () => {
  test("a template round-trips through the editor's draft", () => {
    const d = draftFrom(sample);
    expect(d.tags).toBe("demo, test");
    expect(d.blocks[3].params).toEqual({ temperature: "0.2", max_tokens: "64" });
    expect(d.blocks[3].stop).toBe("\\n\\n"); // escaped, one a line
    expect(d.blocks[3].extra).toEqual({ response_format: { type: "text" } });
    expect(d.variables[0].options).toBe("English\nFrench");
    expect(d.variables[2]).toMatchObject({ min: "1", max: "5", step: "1", default: "2" });
    const back = templateFrom(d);
    expect(contentKey(back)).toBe(contentKey(sample));
    expect(back.id).toBe("greet");
    expect(back.variables[2]).toEqual({ name: "times", type: "number", required: false, label: "Times", min: 1, max: 5, step: 1, default: 2 });
  });

  test("edits show in the content key; a note does not", () => {
    const d = draftFrom(sample);
    const key = contentKey(templateFrom(d));
    expect(contentKey(templateFrom(d, "a note"))).toBe(key);
    expect(templateFrom(d, "  a note ").message).toBe("a note");
    d.blocks[0].text += "!";
    expect(contentKey(templateFrom(d))).not.toBe(key);
  });

  test("a new draft is valid as it stands", () => {
    const t = templateFrom(emptyDraft());
    expect(t.blocks.map((b) => b.type)).toEqual(["system", "user"]);
    expect(undefinedIn({ type: "user", text: t.blocks[1].text ?? "", pairs: [] }, t.variables)).toEqual([]);
    expect(t.id).toBeUndefined();
    const p = templateFrom({ ...emptyDraft(), blocks: [newBlock("parameters")] }).blocks[0];
    expect(p).toEqual({ type: "parameters", temperature: 0.7, max_tokens: 256 });
  });

  test("move and drop indexes", () => {
    expect(move(["a", "b", "c"], 0, 2)).toEqual(["b", "c", "a"]);
    expect(move(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(move(["a", "b"], 5, 0)).toEqual(["a", "b"]);
    // dragging item 0 into the gap before item 2 lands at index 1
    expect(dropIndex(0, 2)).toBe(1);
    expect(dropIndex(2, 0)).toBe(0);
    expect(dropIndex(1, 3)).toBe(2);
  });
});

describe("server errors", () => {
  test("a JSON path names the block, variable, value or field", () => {
    expect(errorTarget("template.blocks[2].text")).toMatchObject({ kind: "block", index: 2 });
    expect(errorTarget("template.blocks[1].pairs[0].user")).toMatchObject({ kind: "block", index: 1 });
    expect(errorTarget("template.variables[0].default")).toMatchObject({ kind: "variable", index: 0, field: "default" });
    expect(errorTarget("variables[3]")).toMatchObject({ kind: "variable", index: 3, field: "" });
    expect(errorTarget("values.who")).toMatchObject({ kind: "value", name: "who" });
    expect(errorTarget("template.name")).toMatchObject({ kind: "field", field: "name" });
    expect(errorTarget("blocks")).toMatchObject({ kind: "general" });
    expect(errorTarget(undefined)).toMatchObject({ kind: "general", path: "" });
    expect(errorText("template: blocks[1].text: {{x}} in block 1 is not a defined variable")).toBe("{{x}} is not a defined variable");
    expect(errorText("variable 'who' is required")).toBe("variable 'who' is required");
    expect(errorText("template.blocks[0].text: template: blocks[0].text: {{p}} is not")).toBe("{{p}} is not");
  });
});

describe("the generated form", () => {
  const vars = sample.variables;

  test("starts from the defaults", () => {
    expect(vars.map(initialValue)).toEqual(["English", "world", 2, false]);
    expect(initialValue({ name: "s", type: "select", options: ["a", "b"] })).toBe("a");
    expect(initialValue({ name: "t", type: "text", default: "Dear {{who}}" })).toBe(""); // expanded by the server
    expect(initialValue({ name: "n", type: "number" })).toBe(null);
  });

  test("keeps what the user typed across edits of the variables", () => {
    let values = reconcileValues(vars, {});
    expect(values).toEqual({ language: "English", who: "world", times: 2, formal: false });
    const prev = Object.fromEntries(vars.map((v) => [v.name, v]));
    values = { ...values, who: "Ada", times: 4 };
    // `who` retyped to multiline starts again; `times` keeps 4; a renamed variable starts at its default
    const edited: TemplateVariable[] = [
      vars[0],
      { ...vars[1], type: "multiline" },
      vars[2],
      { ...vars[3], name: "polite", default: true },
    ];
    expect(reconcileValues(edited, values, prev)).toEqual({ language: "English", who: "world", times: 4, polite: true });
    // an untouched value follows a new default
    const newDefault = [{ ...vars[0], default: "French" }];
    expect(reconcileValues(newDefault, { language: "English" }, prev)).toEqual({ language: "French" });
    // a select value no longer among the options goes back to the default
    expect(reconcileValues([{ ...vars[0], options: ["German"], default: "German" }], { language: "French" }, prev)).toEqual({
      language: "German",
    });
    // names that are not names yet (being typed) are left out
    expect(reconcileValues([{ name: "1x", type: "text" }], {})).toEqual({});
  });

  test("sends what the server needs: empty optional text and unset numbers are left to the defaults", () => {
    expect(buildValues(vars, { language: "French", who: "", times: null, formal: true, gone: "x" })).toEqual({ language: "French", formal: true });
    expect(buildValues([{ name: "q", type: "text", required: true }], { q: "" })).toEqual({ q: "" });
  });

  test("a number with a range is a slider", () => {
    expect(sliderOf(vars[2])).toEqual({ min: 1, max: 5, step: 1 });
    expect(sliderOf({ name: "t", type: "number", min: 0, max: 1 })).toEqual({ min: 0, max: 1, step: "any" });
    expect(sliderOf({ name: "w", type: "number", min: 20, max: 3000 })).toEqual({ min: 20, max: 3000, step: 1 });
    expect(sliderOf({ name: "n", type: "number", min: 1 })).toBeNull();
  });
});

describe("runs", () => {
  test("time to first token and tokens per second after it", () => {
    expect(runStats(1000, 1250, 2250, 11, 2300)).toEqual({ ttftMs: 250, tokens: 11, tokensPerSecond: 10, totalMs: 1300 });
    expect(runStats(0, null, null, 0, 500)).toEqual({ ttftMs: null, tokens: 0, tokensPerSecond: null, totalMs: 500 });
    expect(runStats(0, 100, 100, 1, 200).tokensPerSecond).toBeNull();
  });
});

describe("diffs", () => {
  test("line diff keeps common lines and marks the rest", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc\nd")).toEqual([
      { op: "same", text: "a" },
      { op: "del", text: "b" },
      { op: "add", text: "x" },
      { op: "same", text: "c" },
      { op: "add", text: "d" },
    ]);
    expect(lineDiff("same", "same")).toEqual([{ op: "same", text: "same" }]);
  });

  test("blocks as lines, variable property changes, emptiness", () => {
    expect(blockLines({ type: "user", text: "Hi" })).toBe("Hi");
    expect(blockLines({ type: "examples", pairs: [{ user: "u", assistant: "a" }] })).toBe("Example 1 user: u\nExample 1 assistant: a");
    expect(blockLines({ type: "parameters", temperature: 0.5, stop: ["x"] })).toBe('temperature: 0.5\nstop: ["x"]');
    expect(variableChanges(vars()[0], { ...vars()[0], options: ["English", "German"], required: false })).toEqual([
      { key: "options", old: "English, French", new: "English, German" },
      { key: "required", old: "true", new: "false" },
    ]);
    const empty: TemplateDiff = {
      id: "x",
      from: 1,
      to: 2,
      fields: {},
      blocks: { added: [], removed: [], changed: [] },
      variables: { added: [], removed: [], changed: [] },
    };
    expect(diffIsEmpty(empty)).toBe(true);
    expect(diffIsEmpty({ ...empty, fields: { name: { old: "a", new: "b" } } })).toBe(false);
    function vars() {
      return sample.variables;
    }
  });
});

describe("files", () => {
  test("export and import", () => {
    const text = exportText({ ...sample, created_at: 5 });
    expect(JSON.parse(text).created_at).toBeUndefined();
    expect(exportName(sample)).toBe("greet.json");
    expect(exportName({ name: "My Prompt!", blocks: [], variables: [] })).toBe("my-prompt.json");
    const t = parseImport(text);
    expect(t.version).toBeUndefined();
    expect(t.id).toBe("greet");
    expect(t.blocks).toHaveLength(4);
    expect(() => parseImport("{")).toThrow(/not JSON/);
    expect(() => parseImport("[1]")).toThrow(/no template/);
    expect(() => parseImport('{"name": "x"}')).toThrow(/no template/);
  });
});

test("stop strings one a line, with \\n and \\\\ escaped", () => {
  expect(escapeStop("a\nb\\c")).toBe("a\\nb\\\\c");
  expect(unescapeStop(escapeStop("a\nb\\c\\n"))).toBe("a\nb\\c\\n");
});
