// A pull from the Models screen against tests/hub/fake_hub.py (a local
// stand-in for the Hugging Face Hub, its transfer slowed down so progress
// shows): the progress bar moves, the file lands byte for byte, and the
// library lists the new model.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchBrowser, missing, openPage, screenshot, sharedModels, startFakeHub, startServer } from "./support.mjs";

const skip = missing();
let server;
let browser;
let hub;
let hubRoot;

function findFile(dir, name) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    } else if (e === name) return p;
  }
  return null;
}

describe("web UI: pull from the Hub", { skip: skip || false }, () => {
  before(async () => {
    hubRoot = mkdtempSync(join(tmpdir(), "rmm-fake-hub-"));
    mkdirSync(join(hubRoot, "tiny", "Stories-GGUF"), { recursive: true });
    copyFileSync(join(sharedModels, "TinyStories-656K-Q8_0.gguf"), join(hubRoot, "tiny", "Stories-GGUF", "stories-Q8_0.gguf"));
    hub = await startFakeHub(hubRoot);
    await fetch(`${hub.url}/_fake/config?rate=250000`); // about 3 s for the 750 KB file
    server = await startServer({ env: { RMM_HF_ENDPOINT: hub.url, HF_ENDPOINT: hub.url } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
    hub?.stop();
    if (hubRoot) rmSync(hubRoot, { recursive: true, force: true });
  });

  test("progress shows while it downloads, then the model is in the library", async () => {
    const page = await openPage(browser, `${server.url}/#/models`);
    await page.fill("#pull-spec", "tiny/Stories-GGUF:Q8_0");
    await page.getByRole("button", { name: "Pull", exact: true }).click();
    const bar = page.getByRole("progressbar", { name: "Pull progress" });
    // Part way: some bytes done, not all.
    await page.waitForFunction(() => {
      const p = document.querySelector("progress[aria-label='Pull progress']");
      return p && p.value > 0 && p.value < p.max;
    }, null, { timeout: 20000 });
    await screenshot(page, "models-pull-progress");
    await page.waitForSelector("text=Done:", { timeout: 30000 });
    assert.ok(await bar.isVisible());
    const pulled = findFile(server.modelsDir, "stories-Q8_0.gguf");
    assert.ok(pulled, "the file is in the models folder");
    assert.ok(readFileSync(pulled).equals(readFileSync(join(sharedModels, "TinyStories-656K-Q8_0.gguf"))));
    await page.getByRole("button", { name: "Refresh" }).first().click();
    await page.waitForSelector("text=tiny/stories-gguf", { timeout: 10000 }).catch(async () => {
      // The short name comes from the model's own name; any row with Q8_0 beyond the shared one will do.
      const names = await (await fetch(`${server.url}/api/models`)).json();
      assert.ok(names.models.some((m) => m.path === pulled), JSON.stringify(names.models.map((m) => m.path)));
    });
    await screenshot(page, "models-pulled");
  });
});
