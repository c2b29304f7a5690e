// The Models and Dashboard screens against a real `rmm serve`: loading and
// unloading a model from the Models screen shows on the Dashboard, a model
// too big for the memory budget is flagged before the click and refused by
// the server with its own figures, and both screens pass the accessibility
// check in both themes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { accessibilityProblems, launchBrowser, missing, openPage, screenshot, startServer } from "./support.mjs";

const skip = missing();
let server;
let browser;
// The second suite's own (suites may overlap).
let tightServer;
let ownBrowser;

// Polls `check` (an async predicate, run here in Node: Playwright's waitForFunction would take the
// promise an async page function returns as a truthy value at once) until it holds or `ms` pass.
async function until(check, ms) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not so after ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function loadedNames(on = server) {
  const r = await (await fetch(`${on.url}/api/models/loaded`)).json();
  return r.models.map((m) => m.id);
}

describe("web UI: models and dashboard", { skip: skip || false }, () => {
  before(async () => {
    // A budget that holds stories260K (about 10 MiB planned) but not llama-2-tiny-random with its 4096-token context.
    server = await startServer({
      models: ["stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "llama-2-tiny-random.gguf"],
      args: ["--max-memory", "24MiB"],
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("load from the Models screen, see it on the Dashboard, unload it", async () => {
    const page = await openPage(browser, `${server.url}/#/models`);
    const row = page.locator("tr", { hasText: "stories260k:f32" }).first();
    await row.getByRole("button", { name: /^Load/ }).click();
    await until(async () => (await loadedNames()).length === 1, 30000);
    assert.deepEqual(await loadedNames(), ["stories260k:f32"]);
    await screenshot(page, "models-light");
    assert.deepEqual(await accessibilityProblems(page), []);

    await page.goto(`${server.url}/#/dashboard`);
    await page.waitForSelector("text=stories260k:f32", { timeout: 10000 });
    await page.waitForTimeout(2500); // a few samples for the charts
    await screenshot(page, "dashboard-light");
    assert.deepEqual(await accessibilityProblems(page), []);

    await page.goto(`${server.url}/#/models`);
    await page.locator("section, div", { hasText: "Loaded" }).getByRole("button", { name: /^Unload/ }).first().click();
    await until(async () => (await loadedNames()).length === 0, 30000);
    await page.goto(`${server.url}/#/dashboard`);
    await page.waitForTimeout(1500);
    assert.equal(await page.locator("text=stories260k:f32").count(), 0, "the dashboard no longer lists it");
  });

  test("both screens in the dark theme", async () => {
    const page = await openPage(browser, `${server.url}/#/models`, { colorScheme: "dark" });
    await page.waitForSelector("text=tinystories-656k:q8_0");
    await screenshot(page, "models-dark");
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.goto(`${server.url}/#/dashboard`);
    await page.waitForTimeout(2000);
    await screenshot(page, "dashboard-dark");
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(page.problems, []);
  });
});

describe("web UI: a model that will not fit", { skip: skip || false }, () => {
  before(async () => {
    tightServer = await startServer({ models: ["stories260K.gguf"], args: ["--max-memory", "1MiB"] });
    ownBrowser = await launchBrowser();
  });
  after(async () => {
    await ownBrowser?.close();
    await tightServer?.dispose();
  });

  test("is flagged before the click and refused with the tightServer's figures after it", async () => {
    const page = await openPage(ownBrowser, `${tightServer.url}/#/models`);
    const row = page.locator("tr", { hasText: "stories260k:f32" }).first();
    await row.locator("text=will not fit").waitFor();
    await row.getByRole("button", { name: /^Load/ }).click();
    const alert = page.getByRole("alert").filter({ hasText: "stories260k:f32" });
    await alert.waitFor({ timeout: 15000 });
    // The tightServer's own wording (a 507 naming what is needed and what is free), not the UI's.
    const res = await fetch(`${tightServer.url}/api/models/load`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "stories260k:f32" }),
    });
    assert.equal(res.status, 507);
    const serverMessage = (await res.json()).error.message;
    assert.ok((await alert.innerText()).includes(serverMessage), `${await alert.innerText()} shows ${serverMessage}`);
    await screenshot(page, "models-will-not-fit");
    assert.deepEqual(await loadedNames(tightServer), []);
  });
});
