// The chat screen in Debian's Chromium against a real `rmm serve` with the
// stories260K model: streaming, stop, regenerate and branches, edit and
// resend, fork, search and export, themes, reconnect, a long conversation,
// accessibility. What the page shows is checked against the server's own
// record of the conversation (the history API), not against itself.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { accessibilityProblems, launchBrowser, missing, openPage, screenshot, startServer, conversationIdOf, openChatPage, storedConversation } from "./support.mjs";

const skip = missing();
let server;
let browser;
// The second suite's own (suites may overlap).
let plainServer;
let ownBrowser;

const chatPage = (opts) => openChatPage(browser, server.url, opts);
const stored = (id) => storedConversation(server.url, id);

async function send(page, text) {
  await page.fill("#composer", text);
  await page.keyboard.press("Enter");
}

async function answerDone(page, count = 1) {
  await page.waitForFunction((n) => document.querySelectorAll("article.assistant .stats").length >= n, count, { timeout: 30000 });
}

function pathOf(conversation) {
  const byId = new Map(conversation.messages.map((m) => [m.id, m]));
  const out = [];
  for (let m = byId.get(conversation.current_leaf); m; m = byId.get(m.parent_id)) out.unshift(m);
  return out;
}

describe("web UI: chat", { skip: skip || false }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("an answer streams in and is stored with its timings and token probabilities", async () => {
    const page = await chatPage({ params: { max_tokens: 200, temperature: 0 } });
    await send(page, "Once upon a time");
    // Seen while it streams: the plain-text view with the caret, before the stats line.
    await page.waitForSelector("article.assistant .plain.streaming", { timeout: 20000 });
    await answerDone(page);
    await screenshot(page, "chat-light");
    const shown = (await page.locator("article.assistant .body").innerText()).trim();
    const c = await stored(conversationIdOf(page));
    const path = pathOf(c);
    assert.deepEqual(path.map((m) => m.role), ["user", "assistant"]);
    assert.equal(path[0].content, "Once upon a time");
    assert.ok(path[1].content.length > 0);
    assert.equal(shown.replace(/\s+/g, " "), path[1].content.trim().replace(/\s+/g, " "));
    assert.ok(path[1].timings.generation_tokens_per_second > 0);
    assert.equal(path[1].logprobs.length, path[1].completion_tokens, "one token event per generated token");
    const stats = await page.locator("article.assistant .stats").innerText();
    assert.match(stats, new RegExp(`^${path[1].completion_tokens} tok`));
    assert.match(stats, /context \d+\/2048/);
    assert.deepEqual(page.problems, [], "no console errors or CSP violations");
  });

  test("stop ends the answer and keeps what came", async () => {
    const page = await chatPage({ params: { max_tokens: -1, temperature: 0.8 } });
    await send(page, "Tell me a long story");
    await page.waitForSelector("article.assistant .plain.streaming", { timeout: 20000 });
    await page.waitForFunction(() => (document.querySelector("article.assistant .plain")?.textContent ?? "").length > 20);
    await page.keyboard.press("Escape");
    await answerDone(page);
    assert.match(await page.locator("article.assistant .stats").innerText(), /stopped/);
    const path = pathOf(await stored(conversationIdOf(page)));
    assert.equal(path.length, 2);
    assert.ok(path[1].content.length > 20);
    assert.ok(path[1].completion_tokens < 2000, "stopped well before the context was full");
  });

  test("regenerate adds a branch; < 1/2 > switches and the server follows", async () => {
    const page = await chatPage({ params: { max_tokens: 16, temperature: 1, seed: 7 } });
    await send(page, "The little dog");
    await answerDone(page);
    const first = (await page.locator("article.assistant .body").innerText()).trim();
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("rmm.settings"));
      s.params.seed = 8;
      localStorage.setItem("rmm.settings", JSON.stringify(s));
    });
    await page.getByRole("button", { name: "Regenerate the answer" }).click();
    await page.waitForFunction(() => document.querySelector("article.assistant .branch-count")?.textContent === "2/2", null, {
      timeout: 30000,
    });
    await answerDone(page);
    const id = conversationIdOf(page);
    let c = await stored(id);
    const answers = c.messages.filter((m) => m.role === "assistant");
    assert.equal(answers.length, 2);
    assert.equal(answers[0].parent_id, answers[1].parent_id, "the two answers are siblings");
    assert.equal(c.current_leaf, answers[1].id);
    await screenshot(page, "chat-branches");
    await page.getByRole("button", { name: "Previous version" }).click();
    await page.waitForFunction(() => document.querySelector("article.assistant .branch-count")?.textContent === "1/2");
    assert.equal((await page.locator("article.assistant .body").innerText()).trim(), first);
    await page.waitForTimeout(200);
    c = await stored(id);
    assert.equal(c.current_leaf, answers[0].id, "the shown branch is the conversation's current leaf");
    // A reload shows the same branch.
    await page.reload();
    await page.waitForFunction(() => document.querySelector("article.assistant .branch-count")?.textContent === "1/2");
  });

  test("editing a message and resending makes a sibling of it", async () => {
    const page = await chatPage();
    await send(page, "A cat sat");
    await answerDone(page);
    await page.getByRole("button", { name: "Edit and resend" }).click();
    await page.fill("article.user textarea", "A cat ran");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("article.user .branch-count")?.textContent === "2/2", null, {
      timeout: 30000,
    });
    await answerDone(page);
    const c = await stored(conversationIdOf(page));
    const users = c.messages.filter((m) => m.role === "user");
    assert.deepEqual(users.map((m) => m.content), ["A cat sat", "A cat ran"]);
    assert.equal(users[0].parent_id, users[1].parent_id);
    assert.equal(pathOf(c)[0].content, "A cat ran");
  });

  test("fork copies the shown path into a new chat", async () => {
    const page = await chatPage();
    await send(page, "Once there was a frog");
    await answerDone(page);
    const original = conversationIdOf(page);
    await page.getByRole("button", { name: "Fork" }).click();
    await page.waitForFunction((id) => !location.hash.includes(id) && location.hash.startsWith("#/chat/"), original);
    const forked = conversationIdOf(page);
    const a = pathOf(await stored(original));
    const b = pathOf(await stored(forked));
    assert.deepEqual(b.map((m) => [m.role, m.content]), a.map((m) => [m.role, m.content]));
    await page.waitForSelector(`.history li.current .title:has-text("(fork)")`);
  });

  test("search finds a conversation and export downloads it as the server writes it", async () => {
    const page = await chatPage();
    await send(page, "Zebra stripes are unique");
    await answerDone(page);
    const id = conversationIdOf(page);
    await page.keyboard.press("Control+k");
    await page.keyboard.type("zebra");
    await page.waitForFunction(() => {
      const items = [...document.querySelectorAll(".history li .title")].map((e) => e.textContent);
      return items.length === 1 && items[0].includes("Zebra");
    });
    await page.getByRole("button", { name: /Actions for Zebra/ }).click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("menuitem", { name: "Export Markdown" }).click(),
    ]);
    const file = await download.path();
    const expected = await (await fetch(`${server.url}/api/chat/history/${id}/export?format=markdown`)).text();
    assert.equal(readFileSync(file, "utf8"), expected);
    assert.match(expected, /Zebra stripes are unique/);
  });

  test("themes follow the system and switch; both pass the accessibility check", async () => {
    const page = await chatPage({ colorScheme: "dark" });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await send(page, "Hello");
    await answerDone(page);
    await screenshot(page, "chat-dark");
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.getByRole("button", { name: "Light" }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.reload();
    await page.waitForSelector("#composer");
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light", "the choice is kept");
  });

  test("the settings panel opens from the keyboard and passes the accessibility check", async () => {
    const page = await chatPage({ colorScheme: "dark" });
    await page.keyboard.press("Control+,");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await screenshot(page, "settings-dark");
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.keyboard.press("Escape");
    assert.equal(await page.getByRole("heading", { name: "Settings" }).count(), 0);
    await page.getByRole("button", { name: "Parameters" }).click();
    await page.getByRole("heading", { name: "Parameters" }).waitFor();
    // The form shows the server's own defaults (GET /api/parameters), e.g. temperature 0.8.
    await page.waitForSelector("input[placeholder='0.8']");
    await screenshot(page, "parameters-dark");
    assert.deepEqual(await accessibilityProblems(page), []);
  });

  test("a narrow window shows the sidebar on demand", async () => {
    const page = await chatPage({ viewport: { width: 420, height: 800 } });
    await screenshot(page, "chat-narrow");
    await page.getByRole("button", { name: "Open the sidebar" }).click();
    await page.waitForTimeout(250);
    await screenshot(page, "chat-narrow-sidebar");
    assert.ok(await page.getByRole("button", { name: "+ New chat" }).isVisible());
  });

  test("a 2,000-message conversation opens and scrolls in under a second", async () => {
    const messages = [];
    for (let i = 0; i < 1000; i++) {
      messages.push({ role: "user", content: `Question ${i}: what happened next in the story?` });
      messages.push({ role: "assistant", content: `Answer ${i}: the **dog** ran to the \`park\` and met a friend.\n\n- one\n- two` });
    }
    const res = await fetch(`${server.url}/api/chat/history`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "Long chat", messages }),
    });
    assert.equal(res.status, 201);
    const { id } = await res.json();
    const page = await chatPage();
    const started = Date.now();
    await page.goto(`${server.url}/#/chat/${id}`);
    await page.waitForFunction(() => document.querySelector(".messages")?.textContent?.includes("Answer 999"));
    const opened = Date.now() - started;
    // Scrolling to the top brings older messages in; each jump must settle within a second.
    let slowest = 0;
    let jumps = 0;
    while (!(await page.evaluate(() => document.querySelector(".messages").textContent.includes("Question 0:")))) {
      assert.ok(++jumps < 100, "the first message is reachable by scrolling up");
      const ms = await page.evaluate(async () => {
        const el = document.querySelector(".messages");
        const t0 = performance.now();
        el.scrollTop = 0;
        await new Promise((r) => setTimeout(r, 50)); // the observer's callback
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        return performance.now() - t0;
      });
      slowest = Math.max(slowest, ms);
    }
    const back = await page.evaluate(async () => {
      const el = document.querySelector(".messages");
      const t0 = performance.now();
      el.scrollTop = el.scrollHeight;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - t0;
    });
    await screenshot(page, "chat-long");
    assert.ok(opened < 1000, `opened in ${opened} ms`);
    assert.ok(slowest < 1000, `the slowest scroll up took ${slowest} ms`);
    assert.ok(back < 1000, `back to the end in ${back} ms`);
    assert.equal(await page.locator("article").count(), 2000);
  });

  test("the page says the server went away and reconnects by itself", async () => {
    const page = await chatPage();
    await server.stop();
    await page.waitForSelector("text=The server went away", { timeout: 10000 });
    await screenshot(page, "chat-reconnecting");
    await server.restart();
    await page.waitForSelector("text=The server is back", { timeout: 15000 });
    await send(page, "Back again");
    await answerDone(page);
  });
});

describe("web UI: untrusted model output", { skip: skip || false }, () => {
  before(async () => {
    plainServer = await startServer();
    ownBrowser = await launchBrowser();
  });
  after(async () => {
    await ownBrowser?.close();
    await plainServer?.dispose();
  });

  test("an answer full of HTML and script renders as harmless text and Markdown", async () => {
    const evil =
      'Look: <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>' +
      '<a href="javascript:window.__pwned=3">click</a><iframe src="https://example.org"></iframe>' +
      '<div onmouseover="window.__pwned=4" style="position:fixed;inset:0">cover</div>\n\n**bold** and `code`';
    const res = await fetch(`${plainServer.url}/api/chat/history`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "XSS", messages: [{ role: "user", content: "hi" }, { role: "assistant", content: evil }] }),
    });
    const { id } = await res.json();
    const page = await openPage(ownBrowser, `${plainServer.url}/#/chat/${id}`);
    await page.waitForSelector("article.assistant .markdown strong");
    await page.hover("article.assistant .markdown");
    await page.locator("article.assistant a", { hasText: "click" }).click().catch(() => {});
    const found = await page.evaluate(() => {
      const body = document.querySelector("article.assistant .markdown");
      return {
        pwned: window.__pwned ?? 0,
        bad: body.querySelectorAll("img, script, iframe, [onerror], [onmouseover], [style], a[href^='javascript']").length,
        text: body.textContent,
      };
    });
    assert.equal(found.pwned, 0);
    assert.equal(found.bad, 0);
    assert.match(found.text, /Look:/);
    assert.match(found.text, /cover/);
  });
});
