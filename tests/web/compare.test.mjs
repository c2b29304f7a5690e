// The Prompt Architect's Compare view in Debian's Chromium against a real
// `rmm serve` with two real models: one template on both models side by side,
// two saved versions over a three-row table (each row's A and B next to each
// other, checked against direct POST /api/prompts/run calls with the same
// version, values and model, greedy), saving, a reload, reopening (the stored
// results show without a run), deleting, both themes, a narrow window and the
// accessibility check.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { accessibilityProblems, launchBrowser, missing, openPage, screenshot, startServer } from "./support.mjs";

const skip = missing();
let server;
let browser;
let templateId = "";
let modelNames = [];

async function api(method, path, body) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? await res.json() : null };
}

const template = (user) => ({
  name: "Compare lab",
  blocks: [
    { type: "system", text: "You tell very short stories." },
    { type: "user", text: user },
    { type: "parameters", temperature: 0, max_tokens: 20 },
  ],
  variables: [
    { name: "topic", type: "text", label: "Topic", default: "a cat", required: true },
    { name: "mood", type: "select", label: "Mood", options: ["happy", "sad"], default: "happy" },
  ],
});

// The cells of a section, as the page shows them.
const cells = (page, selector) =>
  page.$$eval(`${selector} article.cell`, (els) =>
    els.map((e) => ({
      label: e.getAttribute("aria-label"),
      status: e.dataset.status,
      answer: e.querySelector('[data-testid="cell-answer"]').textContent,
      ttft: e.querySelector('[data-testid="ttft"]').textContent,
      tps: e.querySelector('[data-testid="tps"]').textContent,
      tokens: e.querySelector('[data-testid="tokens"]').textContent,
    })),
  );

async function allDone(page, selector, n, timeout = 120000) {
  await page.waitForFunction(
    ([s, k]) => {
      const els = document.querySelectorAll(`${s} article.cell`);
      return els.length === k && [...els].every((e) => e.dataset.status === "done");
    },
    [selector, n],
    { timeout },
  );
}

async function openCompare(page) {
  await page.waitForSelector('ul[aria-label="Templates"] li[data-id]');
  await page.getByRole("button", { name: "Compare", exact: true }).click();
  await page.waitForSelector("section.compare");
}

describe("web UI: prompt architect, compare", { skip: skip || false }, () => {
  before(async () => {
    server = await startServer({ models: ["stories260K.gguf", "TinyStories-656K-Q8_0.gguf"] });
    browser = await launchBrowser();
    const created = await api("POST", "/api/prompts/templates", template("Tell a story about {{topic}}. It is {{mood}}."));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    templateId = created.body.id;
    const v2 = await api("PUT", `/api/prompts/templates/${templateId}`, {
      ...template("Once upon a time there was {{topic}}. The {{mood}} day began."),
      message: "story opening",
    });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    assert.equal(v2.body.version, 2);
    const models = await api("GET", "/api/models");
    modelNames = (models.body.data ?? models.body.models ?? models.body).map((m) => m.name ?? m.id);
    assert.equal(modelNames.length, 2, JSON.stringify(models.body));
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("two models side by side, two versions over three rows, save, reload, reopen, delete", async () => {
    const page = await openPage(browser, `${server.url}/#/prompts/${templateId}`);
    await openCompare(page);

    // ---- models side by side: both library models are picked, in columns
    const run = page.getByRole("button", { name: /^Run on 2 models/ });
    await run.click();
    const grid = 'section[aria-label="Answers by model"]';
    await allDone(page, grid, 2);
    const cols = await cells(page, grid);
    assert.deepEqual(cols.map((c) => c.label).sort(), modelNames.slice().sort());
    for (const c of cols) {
      assert.ok(c.answer.trim().length > 0, `an answer from ${c.label}`);
      assert.match(c.ttft, /\d+ (ms|s)/, `time to first token of ${c.label}`);
      assert.match(c.tps, /tok\/s/, `tokens/s of ${c.label}`);
      assert.ok(Number(c.tokens) > 1, `tokens of ${c.label}`);
    }
    // the page ran what a direct run with the editor's template and values gives
    for (const c of cols) {
      const direct = await api("POST", "/api/prompts/run", {
        template_id: templateId,
        values: { topic: "a cat", mood: "happy" },
        model: c.label,
        stream: false,
      });
      assert.equal(direct.status, 200, JSON.stringify(direct.body));
      assert.equal(c.answer, direct.body.choices[0].message.content, `the answer of ${c.label}`);
    }
    await screenshot(page, "compare-models-light");
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.locator("#cmp-title-models").fill("Models run");
    await page.locator(".mode:not([hidden])").getByRole("button", { name: "Save comparison" }).click();
    await page.locator('ul[aria-label="Saved comparisons"] li', { hasText: "Models run" }).waitFor();

    // ---- versions over a table
    await page.getByRole("button", { name: "Versions over a table" }).click();
    const A = page.getByLabel("Version A");
    const B = page.getByLabel("Version B");
    await page.waitForFunction(() => document.querySelectorAll("table.vtable tbody tr").length === 1);
    assert.equal(await A.inputValue(), "1");
    assert.equal(await B.inputValue(), "2");
    const model = modelNames.find((m) => /656K/i.test(m)) ?? modelNames[0];
    await page.locator(".versions-cmp").getByLabel("Model").selectOption(model);
    // the first row is the form's values
    assert.equal(await page.getByLabel("topic, row 1").inputValue(), "a cat");
    assert.equal(await page.getByLabel("mood, row 1").inputValue(), "happy");
    await page.getByLabel("topic, row 1").fill("a dog");
    await page.getByRole("button", { name: "+ Row" }).click();
    assert.equal(await page.getByLabel("topic, row 2").inputValue(), "a dog"); // copies the row above
    await page.getByLabel("topic, row 2").fill("the moon");
    await page.getByLabel("mood, row 2").selectOption("sad");
    await page.getByRole("button", { name: "+ Row" }).click();
    await page.getByRole("button", { name: "+ Row" }).click();
    await page.getByRole("button", { name: "Remove row 4" }).click();
    await page.getByLabel("topic, row 3").fill("a red ball");
    const rows = [
      { topic: "a dog", mood: "happy" },
      { topic: "the moon", mood: "sad" },
      { topic: "a red ball", mood: "sad" },
    ];
    await page.getByRole("button", { name: "Run 3 rows on A and B" }).click();
    const results = 'ol[aria-label="Answers by row"]';
    await allDone(page, results, 6);
    const shown = [];
    for (let i = 0; i < 3; i++) {
      const pair = await cells(page, `${results} > li:nth-child(${i + 1}) .pair`);
      assert.equal(pair.length, 2);
      assert.deepEqual(
        pair.map((c) => c.label),
        [`A · v1, row ${i + 1}`, `B · v2, row ${i + 1}`],
      );
      // side by side: one line, A on the left
      const boxes = await page.locator(`${results} > li:nth-child(${i + 1}) .pair article`).evaluateAll((els) =>
        els.map((e) => e.getBoundingClientRect().toJSON()),
      );
      assert.ok(Math.abs(boxes[0].top - boxes[1].top) < 1 && boxes[0].right <= boxes[1].left, "A and B next to each other");
      for (const [k, c] of pair.entries()) {
        assert.ok(c.answer.trim(), `row ${i + 1} ${k ? "B" : "A"} has an answer`);
        assert.ok(Number(c.tokens) > 0);
        assert.match(c.ttft, /\d/);
        const direct = await api("POST", "/api/prompts/run", {
          template_id: templateId,
          version: k + 1,
          values: rows[i],
          model,
          stream: false,
        });
        assert.equal(direct.status, 200, JSON.stringify(direct.body));
        assert.equal(c.answer, direct.body.choices[0].message.content, `row ${i + 1}, version ${k + 1}`);
      }
      shown.push(pair);
    }
    assert.notEqual(shown[0][0].answer, shown[0][1].answer, "the two versions answer differently");
    await screenshot(page, "compare-versions-light");
    assert.deepEqual(await accessibilityProblems(page), []);

    await page.locator("#cmp-title-versions").fill("Versions run");
    await page.locator(".mode:not([hidden])").getByRole("button", { name: "Save comparison" }).click();
    await page.locator('ul[aria-label="Saved comparisons"] li', { hasText: "Versions run" }).waitFor();

    // the store has it: kind, template, setup and every result
    const list = await api("GET", "/api/prompts/comparisons");
    assert.equal(list.body.total, 2);
    const saved = list.body.items.find((c) => c.title === "Versions run");
    assert.equal(saved.kind, "versions");
    assert.equal(saved.template_id, templateId);
    const record = await api("GET", `/api/prompts/comparisons/${saved.id}`);
    assert.equal(record.body.body.model, model);
    assert.equal(record.body.body.a.version, 1);
    assert.equal(record.body.body.b.version, 2);
    assert.deepEqual(record.body.body.rows.map((r) => r.values), rows);
    assert.deepEqual(
      record.body.body.rows.map((r) => [r.a.answer, r.b.answer]),
      shown.map((p) => [p[0].answer, p[1].answer]),
    );
    assert.ok(record.body.body.rows.every((r) => r.a.tokens > 0 && r.b.ttft_ms > 0));
    const modelsRec = list.body.items.find((c) => c.title === "Models run");
    assert.equal(modelsRec.kind, "models");
    const mb = (await api("GET", `/api/prompts/comparisons/${modelsRec.id}`)).body.body;
    assert.deepEqual(mb.results.map((r) => r.answer).sort(), cols.map((c) => c.answer).sort());

    // ---- reload and reopen: the stored results, with no run
    await page.reload();
    await openCompare(page);
    let runs = 0;
    page.on("request", (r) => {
      if (r.url().endsWith("/api/prompts/run")) runs++;
    });
    const item = (title) => page.locator('ul[aria-label="Saved comparisons"] li', { hasText: title });
    await item("Versions run").locator("button.open").click();
    await allDone(page, results, 6, 10000);
    for (let i = 0; i < 3; i++) {
      const pair = await cells(page, `${results} > li:nth-child(${i + 1}) .pair`);
      assert.deepEqual(
        pair.map((c) => [c.label, c.answer, c.tokens, c.ttft]),
        shown[i].map((c) => [c.label, c.answer, c.tokens, c.ttft]),
      );
    }
    assert.equal(await page.getByLabel("topic, row 2").inputValue(), "the moon");
    await page.getByText("Showing the saved comparison").first().waitFor();
    await item("Models run").locator("button.open").click();
    await allDone(page, grid, 2, 10000);
    assert.deepEqual((await cells(page, grid)).map((c) => c.answer), cols.map((c) => c.answer));
    assert.equal(runs, 0, "reopening runs nothing");

    // ---- dark theme, narrow window
    const dark = await openPage(browser, `${server.url}/#/prompts/${templateId}`, { colorScheme: "dark" });
    await openCompare(dark);
    await dark.locator('ul[aria-label="Saved comparisons"] li', { hasText: "Versions run" }).locator("button.open").click();
    await allDone(dark, results, 6, 10000);
    await screenshot(dark, "compare-versions-dark");
    assert.deepEqual(await accessibilityProblems(dark), []);
    await dark.locator('ul[aria-label="Saved comparisons"] li', { hasText: "Models run" }).locator("button.open").click();
    await allDone(dark, grid, 2, 10000);
    await screenshot(dark, "compare-models-dark");
    await dark.setViewportSize({ width: 560, height: 900 });
    await dark.getByRole("button", { name: "Versions over a table" }).click();
    await dark.waitForTimeout(200);
    await screenshot(dark, "compare-versions-narrow-dark");
    const overflow = await dark.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scrolling of the page (${overflow}px)`);
    assert.deepEqual(await accessibilityProblems(dark), []);
    assert.deepEqual(dark.problems, []);
    await dark.context().close();

    // ---- delete
    await item("Versions run").getByRole("button", { name: "Delete comparison Versions run" }).click();
    await item("Versions run").getByRole("button", { name: "Delete", exact: true }).click();
    await item("Versions run").waitFor({ state: "detached" });
    assert.equal((await api("GET", `/api/prompts/comparisons/${saved.id}`)).status, 404);
    assert.equal((await api("GET", "/api/prompts/comparisons")).body.total, 1);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
