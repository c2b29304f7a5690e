// The Prompt Architect in Debian's Chromium against a real `rmm serve` with
// the stories260K model: a template built by dragging blocks (HTML5 drag and
// drop with real mouse moves) and reordered by keyboard, every variable type,
// the live preview following the form, an undefined variable flagged in its
// block, a streamed run, two saved versions and their diff, export and
// import, a reload, both themes, a narrow window and the accessibility check.
// What the page did is checked against the server's own record (the prompts API).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accessibilityProblems, launchBrowser, missing, openPage, screenshot, startServer } from "./support.mjs";

const skip = missing();
let server;
let browser;

const blockTypes = (page) => page.$$eval("ol.blocks > li.block", (els) => els.map((e) => e.dataset.type));
const block = (page, type) => page.locator(`ol.blocks > li.block[data-type="${type}"]`);
const preview = (page) => page.locator('ol[aria-label="Rendered messages"]');
const variable = (page, k) => page.locator("ul.vars > li").nth(k);

// A failed build is how the server says what is wrong (a 400 the page shows); Chromium logs each one.
const realProblems = (page) => page.problems.filter((p) => !/status of 400/.test(p));

async function api(path) {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

async function previewHas(page, text) {
  await page.waitForFunction(
    (t) => document.querySelector('ol[aria-label="Rendered messages"]')?.textContent?.includes(t),
    text,
    { timeout: 10000 },
  );
}

async function addVariable(page, { name, type, label, fill = {} }) {
  await page.getByRole("button", { name: "+ Variable" }).click();
  const v = page.locator("ul.vars > li").last();
  await v.getByLabel("Name", { exact: true }).fill(name);
  if (type) await v.getByLabel("Type", { exact: true }).selectOption(type);
  if (label) await v.getByLabel("Label", { exact: true }).fill(label);
  for (const [field, value] of Object.entries(fill)) {
    const input = v.getByLabel(field, { exact: true });
    if (typeof value === "boolean") await input.setChecked(value);
    else if ((await input.evaluate((e) => e.tagName)) === "SELECT") await input.selectOption(value);
    else await input.fill(value);
  }
  return v;
}

describe("web UI: prompt architect", { skip: skip || false }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("build by dragging, every variable type, preview, run, versions, diff, export, import, reload", async () => {
    const page = await openPage(browser, `${server.url}/#/prompts`);
    await page.waitForSelector('ul[aria-label="Templates"] li[data-id="coding-assistant"]');
    // the nav has the screen
    assert.equal(await page.getByRole("link", { name: "Prompts" }).getAttribute("aria-current"), "page");

    await page.getByRole("button", { name: "New template" }).click();
    await page.fill("#tpl-name", "Story lab");
    assert.deepEqual(await blockTypes(page), ["system", "user"]);

    // Blocks dragged from the palette: Context onto the top half of the user block, Examples and
    // Parameters below the last block.
    const chip = (type) => page.locator(`.palette .chip[data-type="${type}"]`);
    await chip("context").dragTo(block(page, "user"), { targetPosition: { x: 60, y: 6 } });
    assert.deepEqual(await blockTypes(page), ["system", "context", "user"]);
    const lastBottom = async () => {
      const last = page.locator("ol.blocks > li.block").last();
      // In view first: a scroll during the drag would end it (the palette stays in view, sticky).
      await last.evaluate((e) => e.scrollIntoView({ block: "end" }));
      const box = await last.boundingBox();
      return { target: last, position: { x: 60, y: box.height - 6 } };
    };
    let t = await lastBottom();
    await chip("examples").dragTo(t.target, { targetPosition: t.position });
    assert.deepEqual(await blockTypes(page), ["system", "context", "user", "examples"]);
    t = await lastBottom();
    await chip("parameters").dragTo(t.target, { targetPosition: t.position });
    assert.deepEqual(await blockTypes(page), ["system", "context", "user", "examples", "parameters"]);
    assert.equal(await chip("parameters").isDisabled(), true, "one parameters block at most");

    // Reorder by dragging a block's handle: Examples onto the top of Context.
    await block(page, "context").evaluate((e) => e.scrollIntoView({ block: "center" }));
    await block(page, "examples").locator(".handle").dragTo(block(page, "context"), { targetPosition: { x: 60, y: 6 } });
    assert.deepEqual(await blockTypes(page), ["system", "examples", "context", "user", "parameters"]);

    // And by keyboard: the move button, then Alt+Up on the handle; focus stays with the block.
    await block(page, "examples").locator(".move-down").focus();
    await page.keyboard.press("Enter");
    assert.deepEqual(await blockTypes(page), ["system", "context", "examples", "user", "parameters"]);
    assert.equal(await page.evaluate(() => document.activeElement?.closest("li.block")?.dataset.type), "examples");
    await block(page, "examples").locator(".handle").focus();
    await page.keyboard.press("Alt+ArrowUp");
    assert.deepEqual(await blockTypes(page), ["system", "examples", "context", "user", "parameters"]);
    assert.match(await page.locator("p.sr-only[aria-live]").textContent(), /Moved the Examples block to position 2 of 5/);

    // An undefined variable is flagged as it is typed: in the block (the mirror marks it) and by the server.
    await block(page, "context").locator("textarea").fill("The story happens in {{place}}.");
    await block(page, "context").locator(".missing").waitFor();
    assert.match(await block(page, "context").locator(".missing").textContent(), /\{\{place\}\}/);
    assert.equal(await block(page, "context").locator("mark.undef").count(), 1);
    await block(page, "context").locator(".error-inline").waitFor({ timeout: 10000 });
    assert.match(await block(page, "context").locator(".error-inline").textContent(), /\{\{place\}\}.*not a defined variable/);
    await screenshot(page, "architect-undefined-light");
    await block(page, "context").getByRole("button", { name: "Define place" }).click();
    await block(page, "context").locator(".missing").waitFor({ state: "detached" });
    assert.equal(await block(page, "context").locator("mark.undef").count(), 0);

    // Every variable type. `request` (multiline) came with the new template; `place` (text) was just defined.
    await variable(page, 1).getByLabel("Default", { exact: true }).fill("a quiet forest");
    await addVariable(page, { name: "hero", label: "Hero", fill: { Default: "Tom", Required: true } });
    await addVariable(page, { name: "mood", type: "select", label: "Mood", fill: { "Options (one a line)": "happy\nsad\nscary" } });
    await variable(page, 3).getByLabel("Default", { exact: true }).selectOption("happy");
    await addVariable(page, { name: "length", type: "number", label: "Sentences", fill: { Min: "1", Max: "10", Step: "1", Default: "3" } });
    await addVariable(page, { name: "rhyme", type: "boolean", label: "Rhyme" });

    await block(page, "user").locator("textarea").fill("Tell a {{mood}} story about {{hero}} in {{length}} sentences. Rhyme: {{rhyme}}.\n{{request}}");
    await block(page, "examples").getByLabel("Example 1 user message").fill("A story about a cat.");
    await block(page, "examples").getByLabel("Example 1 assistant answer").fill("Once upon a time, a cat found a hat.");
    await block(page, "parameters").getByLabel("Temperature").fill("0");
    await block(page, "parameters").getByLabel("Max tokens").fill("24");

    // The generated form: one control per type.
    assert.equal(await page.locator("#value-hero").evaluate((e) => e.tagName + e.type), "INPUTtext");
    assert.equal(await page.locator("#value-request").evaluate((e) => e.tagName), "TEXTAREA");
    assert.equal(await page.locator("#value-mood").evaluate((e) => e.tagName), "SELECT");
    assert.equal(await page.locator("#value-length").getAttribute("type"), "range");
    assert.equal(await page.locator("#value-length").getAttribute("step"), "1");
    assert.equal(await page.locator("#value-rhyme").getAttribute("role"), "switch");

    // The live preview follows the form.
    await previewHas(page, "Tell a happy story about Tom in 3 sentences. Rhyme: false.");
    await previewHas(page, "The story happens in a quiet forest.");
    assert.match(await page.locator('dl[aria-label="Parameters"]').textContent(), /max_tokens\s*24/);
    await screenshot(page, "architect-light");
    await page.fill("#value-hero", "Lily");
    await previewHas(page, "story about Lily");
    await page.selectOption("#value-mood", "scary");
    await previewHas(page, "Tell a scary story");
    await page.focus("#value-length");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await previewHas(page, "in 5 sentences");
    await page.locator(".switch", { hasText: "Rhyme" }).click();
    await previewHas(page, "Rhyme: true.");
    const roles = await preview(page).locator("li").evaluateAll((els) => els.map((e) => e.dataset.role));
    assert.deepEqual(roles, ["system", "user", "assistant", "user"]);

    // Run it: the answer streams in with its figures.
    assert.match(await page.getByRole("combobox", { name: "Model" }).inputValue(), /stories260k/i);
    await page.getByRole("button", { name: "Run ▸" }).click();
    await page.getByRole("button", { name: "Run ▸" }).waitFor({ timeout: 30000 });
    const answer = await page.locator('[data-testid="run-answer"]').textContent();
    assert.ok(answer.trim().length > 0 && !answer.includes("Run the template"), `an answer came: ${answer}`);
    assert.match(await page.locator('[data-testid="ttft"]').textContent(), /\d+(\.\d+)? (ms|s)/);
    assert.match(await page.locator('[data-testid="tps"]').textContent(), /tok\/s/);
    // The run in the token view: one coloured token per generated token, each with its alternatives.
    const view = page.getByRole("region", { name: /Token inspector/ });
    const spans = view.locator(".tokens .tok[data-i]");
    const runTokens = Number(await page.getByRole("definition").filter({ hasText: /^\d+$/ }).first().textContent());
    assert.equal(await spans.count(), runTokens, "one token span per generated token");
    await spans.first().hover();
    assert.equal(await view.locator("#token-detail li").count(), 5, "five alternatives per token");
    await spans.first().click();
    assert.equal(await view.getByRole("button", { name: /^Continue from here/ }).count(), 0, "no forks of a run that is not kept");

    // Save twice, each with a note: two versions.
    await page.fill("#version-note", "first draft");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.waitForFunction(() => location.hash === "#/prompts/story-lab");
    await page.getByText("Saved version 1.").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0, "what is saved is not unsaved");
    await block(page, "system").locator("textarea").fill("You tell stories to children.\nKeep every story {{mood}} but kind.");
    await page.getByText("unsaved changes").waitFor();
    await page.fill("#version-note", "kinder system prompt");
    await page.keyboard.press("Control+s");
    await page.getByText("Saved version 2.").waitFor();
    const versions = (await api("/api/prompts/templates/story-lab/versions")).body.versions;
    assert.deepEqual(
      versions.map((v) => [v.version, v.message]),
      [
        [1, "first draft"],
        [2, "kinder system prompt"],
      ],
    );
    const saved = (await api("/api/prompts/templates/story-lab")).body;
    assert.deepEqual(
      saved.blocks.map((b) => b.type),
      ["system", "examples", "context", "user", "parameters"],
    );
    assert.deepEqual(
      saved.variables.map((v) => [v.name, v.type]),
      [
        ["request", "multiline"],
        ["place", "text"],
        ["hero", "text"],
        ["mood", "select"],
        ["length", "number"],
        ["rhyme", "boolean"],
      ],
    );
    assert.deepEqual(saved.variables[4], { name: "length", type: "number", label: "Sentences", required: false, default: 3, min: 1, max: 10, step: 1 });
    // Saving what is saved adds nothing.
    await page.getByRole("button", { name: "Save version" }).click();
    await page.getByText("Nothing changed since version 2").waitFor();
    assert.equal(await page.getByText("unsaved changes").count(), 0);

    // The versions and the structured diff between them.
    await page.getByRole("button", { name: "Versions (2)" }).click();
    const dialog = page.getByRole("dialog", { name: "Versions of story-lab" });
    await dialog.waitFor();
    await dialog.getByText("Changes from v1 to v2").waitFor();
    const changed = dialog.locator('[data-kind="changed"]');
    assert.equal(await changed.count(), 1);
    assert.match(await changed.textContent(), /1\. System/);
    assert.ok((await changed.locator(".del").textContent()).includes("You are a helpful assistant."));
    assert.ok((await changed.locator(".add").allTextContents()).join("\n").includes("Keep every story {{mood}} but kind."));
    assert.ok(await dialog.getByText("kinder system prompt").isVisible());
    await screenshot(page, "architect-diff-light");
    assert.deepEqual(await accessibilityProblems(page), []);
    // Comparing a version with itself says so.
    await dialog.getByLabel("Compare from version 2").check();
    await dialog.getByText("Versions 2 and 2 say the same.").waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    // Unsaved changes survive opening another template and coming back; Revert drops them.
    await page.fill("#tpl-name", "Story lab (draft)");
    await page.locator('ul[aria-label="Templates"] li[data-id="summarize"] a').click();
    await page.waitForFunction(() => document.querySelector("#tpl-name")?.value === "Summarize");
    await page.locator('ul[aria-label="Templates"] li[data-id="story-lab"] a').click();
    await page.getByText("Your unsaved changes are back").waitFor();
    assert.equal(await page.inputValue("#tpl-name"), "Story lab (draft)");
    await page.getByRole("button", { name: "Revert" }).click();
    assert.equal(await page.inputValue("#tpl-name"), "Story lab");

    // Export (a download of the template) and import it back as a new template.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export JSON" }).click()]);
    assert.equal(download.suggestedFilename(), "story-lab.json");
    const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.equal(exported.id, "story-lab");
    assert.equal(exported.blocks.length, 5);
    assert.equal(exported.variables.length, 6);
    const dir = mkdtempSync(join(tmpdir(), "rmm-arch-"));
    const copy = { ...exported, name: "Story lab copy" };
    delete copy.id;
    writeFileSync(join(dir, "copy.json"), JSON.stringify(copy));
    writeFileSync(join(dir, "same.json"), JSON.stringify(exported));
    await page.setInputFiles('input[type="file"]', join(dir, "copy.json"));
    await page.waitForFunction(() => location.hash === "#/prompts/story-lab-copy");
    await page.locator('ul[aria-label="Templates"] li[data-id="story-lab-copy"]').waitFor();
    assert.equal(await page.inputValue("#tpl-name"), "Story lab copy");
    // The same file as the saved template again: nothing new.
    await page.setInputFiles('input[type="file"]', join(dir, "same.json"));
    await page.getByText("is already saved as version 2").waitFor();
    assert.equal((await api("/api/prompts/templates/story-lab/versions")).body.versions.length, 2);

    // A reload finds everything where it was.
    await page.goto(`${server.url}/#/prompts/story-lab`);
    await page.reload();
    await page.waitForSelector("ol.blocks > li.block");
    await page.waitForFunction(() => document.querySelector("#tpl-name")?.value === "Story lab");
    assert.deepEqual(await blockTypes(page), ["system", "examples", "context", "user", "parameters"]);
    assert.equal(await page.locator("ul.vars > li").count(), 6);
    await page.locator('ul[aria-label="Templates"] li[data-id="story-lab-copy"]').waitFor();
    await previewHas(page, "Keep every story happy but kind.");
    assert.deepEqual(await accessibilityProblems(page), []);

    // Delete the copy from the list (asks once more, inline).
    await page.getByRole("button", { name: "Delete template Story lab copy" }).click();
    await page.getByRole("group", { name: "Delete Story lab copy?" }).getByRole("button", { name: "Delete" }).click();
    await page.locator('ul[aria-label="Templates"] li[data-id="story-lab-copy"]').waitFor({ state: "detached" });
    assert.equal((await api("/api/prompts/templates/story-lab-copy")).status, 404);
    assert.deepEqual(realProblems(page), []);
    await page.context().close();
  });

  test("dark theme, a narrow window, and errors at the value they name", async () => {
    const page = await openPage(browser, `${server.url}/#/prompts/story-lab`, { colorScheme: "dark" });
    await page.waitForSelector("ol.blocks > li.block");
    await previewHas(page, "Keep every story happy but kind.");
    await screenshot(page, "architect-dark");
    assert.deepEqual(await accessibilityProblems(page), []);

    // A required text emptied: the server's message shows at that field of the form.
    await page.fill("#value-hero", "");
    await page.locator('[data-variable="hero"] .err').waitFor({ timeout: 10000 });
    assert.match(await page.locator('[data-variable="hero"] .err').textContent(), /required/);
    assert.equal(await page.getByRole("button", { name: "Run ▸" }).isDisabled(), true);
    await page.fill("#value-hero", "Ada");
    await page.locator('[data-variable="hero"] .err').waitFor({ state: "detached" });

    // A variable name that is taken is flagged at once.
    await page.locator("ul.vars > li").nth(2).getByLabel("Name", { exact: true }).fill("mood");
    await page.getByText("another variable has this name").first().waitFor();
    await screenshot(page, "architect-errors-dark");
    await page.locator("ul.vars > li").nth(2).getByLabel("Name", { exact: true }).fill("hero");
    await page.context().close();

    const narrow = await openPage(browser, `${server.url}/#/prompts/story-lab`, { viewport: { width: 420, height: 900 } });
    await narrow.waitForSelector("ol.blocks > li.block");
    await previewHas(narrow, "Keep every story happy but kind.");
    await screenshot(narrow, "architect-narrow-light");
    // nothing is wider than the window
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the window`);
    assert.deepEqual(await accessibilityProblems(narrow), []);
    assert.deepEqual(realProblems(narrow), []);
    await narrow.context().close();
  });
});
