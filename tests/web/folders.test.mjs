// "Add a folder as it is" on the Models screen: a folder laid out as LM Studio
// lays its models out (publisher/repo/file.gguf) is added by path, its model
// joins the library and answers a chat by name; a path that is no models
// folder gets the server's words in place; removing the folder takes its
// model out of the library and leaves the file.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accessibilityProblems, launchBrowser, missing, openPage, screenshot, sharedModels, startServer } from "./support.mjs";

const skip = missing();
let server;
let browser;
let outside;

describe("web UI: model folders", { skip: skip || false }, () => {
  before(async () => {
    outside = mkdtempSync(join(tmpdir(), "rmm-lmstudio-"));
    mkdirSync(join(outside, "Publisher", "Repo-GGUF"), { recursive: true });
    copyFileSync(join(sharedModels, "TinyStories-656K-Q8_0.gguf"), join(outside, "Publisher", "Repo-GGUF", "tiny-q8.gguf"));
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  test("add a folder, use its model, remove it", async () => {
    const page = await openPage(browser, `${server.url}/#/models`);
    const folders = page.getByRole("region", { name: "Folders" });
    await folders.getByText("main").waitFor();
    const input = folders.getByLabel("Add a folder (a path on the server)");

    // The server's refusal, shown where the user typed.
    await input.fill("relative/path");
    await folders.getByRole("button", { name: "Add folder" }).click();
    await folders.getByRole("alert").getByText("must be an absolute path").waitFor();

    await input.fill(outside);
    await folders.getByRole("button", { name: "Add folder" }).click();
    await folders.getByRole("status").getByText(/Added .*: 1 model\./).waitFor();
    assert.equal(await folders.getByRole("alert").count(), 0, "the earlier error is gone");
    await folders.getByRole("button", { name: `Remove the folder ${outside}` }).waitFor();

    const lib = await (await fetch(`${server.url}/api/models`)).json();
    const added = lib.models.find((m) => m.path === join(outside, "Publisher", "Repo-GGUF", "tiny-q8.gguf"));
    assert.ok(added, JSON.stringify(lib.models.map((m) => m.path)));
    await page.getByRole("rowheader", { name: new RegExp(added.id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) }).waitFor();
    await screenshot(page, "models-folder-added");
    assert.deepEqual(await accessibilityProblems(page), []);

    // It answers by name like any other model.
    const chat = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: added.id, messages: [{ role: "user", content: "Once" }], max_tokens: 3 }),
    });
    assert.equal(chat.status, 200, await chat.clone().text());
    assert.equal((await chat.json()).model, added.id);

    page.once("dialog", (d) => d.accept());
    await folders.getByRole("button", { name: `Remove the folder ${outside}` }).click();
    await folders.getByRole("status").getByText(/left the library/).waitFor();
    await page.getByRole("rowheader", { name: new RegExp(added.id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) }).waitFor({ state: "detached" });
    assert.ok(existsSync(join(outside, "Publisher", "Repo-GGUF", "tiny-q8.gguf")), "the file stays");
  });
});
