// A server with API keys: the page asks for one when the API answers 401,
// keeps it in the browser, and then works (HTTP and the WebSocket).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { launchBrowser, missing, openPage, rmmBin, screenshot, startServer } from "./support.mjs";

const skip = missing();
let server;
let browser;
let key = "";

describe("web UI: API keys", { skip: skip || false }, () => {
  before(async () => {
    server = await startServer({
      prepare: (s) => {
        key = execFileSync(rmmBin, ["keys", "create", "web", "--scope", "admin", "--database", s.database], {
          encoding: "utf8",
        }).trim();
      },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("the page asks for the key, keeps it, and chats with it", async () => {
    assert.match(key, /\S{16,}/);
    assert.equal((await fetch(`${server.url}/api/models`)).status, 401, "the server does want a key");
    const page = await openPage(browser, server.url);
    const dialog = page.getByRole("dialog", { name: "API key needed" });
    await dialog.waitFor();
    // The live socket was refused too, and the page says why rather than "the server went away".
    await page.waitForSelector(".conn:has-text('Needs a key')");
    await screenshot(page, "api-key-dialog");
    await dialog.getByLabel(/API key/).fill(key);
    await dialog.getByRole("button", { name: "Use key" }).click();
    await page.waitForFunction(() => document.querySelector(".conn")?.textContent?.includes("Connected"));
    await page.waitForSelector("select[aria-label=Model] option[value='stories260k:f32']", { state: "attached" });
    assert.equal(await page.evaluate(() => localStorage.getItem("rmm.apiKey")), key);
    await page.evaluate(() =>
      localStorage.setItem("rmm.settings", JSON.stringify({ params: { max_tokens: 8, temperature: 0 } })),
    );
    await page.reload();
    await page.waitForFunction(() => document.querySelector(".conn")?.textContent?.includes("Connected"));
    assert.equal(await dialog.count(), 0, "no second question after a reload");
    await page.fill("#composer", "Hello");
    await page.keyboard.press("Enter");
    await page.waitForSelector("article.assistant .stats", { timeout: 30000 });
  });
});
