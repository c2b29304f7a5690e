// The token inspector in Debian's Chromium against a real `rmm serve` with
// stories260K: tokens coloured by probability and by entropy, the detail pane
// on hover and pinned, a fork from an alternative (checked through the
// server's token ids: the branch keeps the prefix, takes the chosen token, and
// greedy decoding from those ids over /v1 gives back the branch's tokens),
// branches compared, the timeline, exports (JSON, an offline HTML page), an
// old answer after a reload, both themes, accessibility, and a 5,000-token
// answer with 20 alternatives per token.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { accessibilityProblems, launchBrowser, missing, openPage, screenshot, startServer, conversationIdOf, openChatPage, storedConversation } from "./support.mjs";

const skip = missing();
let server;
let browser;

const chatPage = (opts = {}) =>
  openChatPage(browser, server.url, { params: { max_tokens: 40, temperature: 0 }, viewport: { width: 1400, height: 900 }, ...opts });
const stored = (id) => storedConversation(server.url, id);

const inspector = (page) => page.getByRole("region", { name: /Token inspector/ });
const tokenSpans = (page) => inspector(page).locator(".tokens .tok[data-i]");

describe("web UI: token inspector", { skip: skip || false }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("inspect, pin, fork from an alternative, compare, export, reload", async () => {
    const page = await chatPage();
    await page.fill("#composer", "Once upon a time");
    await page.keyboard.press("Enter");
    await page.waitForSelector("article.assistant .stats", { timeout: 30000 });
    const id = conversationIdOf(page);
    const first = (await stored(id)).messages.find((m) => m.role === "assistant");
    assert.ok(first.logprobs.length >= 8, `a long enough answer (${first.logprobs.length} tokens)`);

    await page.getByRole("button", { name: "Tokens" }).click();
    await inspector(page).waitFor();
    assert.equal(await tokenSpans(page).count(), first.logprobs.length, "one span per stored token");
    // The shown tokens are the answer: their text joined is the stored content.
    const joined = await inspector(page).locator(".tokens .tok[data-i]").evaluateAll((els) => els.map((e) => e.textContent).join(""));
    assert.equal(joined.replace(/↵\n/g, "\n").replace(/·/g, " "), first.content.replace(/\t/g, "→"));

    // Summary figures against our own computation from the stored log-probabilities.
    const lps = first.logprobs.map((e) => e.logprob);
    const mean = lps.reduce((a, b) => a + b, 0) / lps.length;
    await inspector(page).getByText(mean.toFixed(3), { exact: true }).waitFor();
    await inspector(page).getByText(Math.exp(-mean).toFixed(2), { exact: true }).waitFor();

    // Hover: the detail pane shows that token's probability, rank and alternatives.
    const k = 3;
    const ev = first.logprobs[k];
    await tokenSpans(page).nth(k).hover();
    const detail = inspector(page).locator("#token-detail");
    await detail.getByText(`#${k} · id ${ev.token_id}`).waitFor();
    assert.equal(await detail.getByRole("list", { name: "Alternatives" }).locator("li").count(), ev.alternatives.length);
    const pct = `${(Math.exp(ev.logprob) * 100).toFixed(1)}%`;
    assert.ok((await detail.innerText()).includes(pct) || Math.exp(ev.logprob) >= 0.9995, `shows ${pct}`);
    assert.ok((await detail.innerText()).includes(`entropy ${ev.entropy.toFixed(3)} nats`));

    // Layers: entropy colours differ from probability colours.
    const probColour = await tokenSpans(page).nth(k).evaluate((e) => e.style.backgroundColor);
    await inspector(page).getByText("Entropy", { exact: true }).click();
    const entColour = await tokenSpans(page).nth(k).evaluate((e) => e.style.backgroundColor);
    assert.notEqual(probColour, entColour);
    await inspector(page).getByText("Probability", { exact: true }).click();

    // Timeline linked to the text: a click at the right end pins the last token.
    const canvas = inspector(page).locator("canvas");
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
    await detail.getByText(`#${first.logprobs.length - 1} · id`).waitFor();

    // Pin token k and continue from its first alternative that is not the chosen token.
    await tokenSpans(page).nth(k).click();
    await detail.getByText("pinned").waitFor();
    await screenshot(page, "inspector-pinned-light");
    const alt = ev.alternatives.find((a) => a.token_id !== ev.token_id);
    await detail.getByRole("button", { name: /^Continue from here with/ }).first().click();
    await page.waitForFunction(() => document.querySelectorAll("article.assistant .stats").length >= 1 && !document.querySelector(".plain.streaming"), null, { timeout: 30000 });
    await page.getByText("2/2").waitFor({ timeout: 30000 });

    // Through the server's record: a sibling answer, marked as a fork at k, whose token ids keep the
    // prefix and take the chosen alternative.
    const c = await stored(id);
    const answers = c.messages.filter((m) => m.role === "assistant");
    assert.equal(answers.length, 2);
    const fork = answers.find((m) => m.id !== first.id);
    assert.equal(fork.parent_id, first.parent_id);
    assert.deepEqual(fork.fork, { of: first.id, at: k });
    assert.equal(c.current_leaf, fork.id);
    const ids = fork.logprobs.map((e) => e.token_id);
    assert.deepEqual(ids.slice(0, k), first.logprobs.slice(0, k).map((e) => e.token_id), "the prefix is unchanged");
    assert.equal(ids[k], alt.token_id, "the chosen alternative is the token at the split");
    assert.ok(fork.content.startsWith(first.logprobs.slice(0, k).map((e) => e.text).join("")));
    // Independent check: greedy decoding over /v1 from those k+1 ids, with the parameters the page's
    // WebSocket generation had (the server's WebSocket defaults, temperature 0), gives back the
    // branch's new tokens.
    const table = (await (await fetch(`${server.url}/api/parameters`)).json()).parameters;
    const wsDefaults = Object.fromEntries(table.filter((p) => p.default !== null && p.default !== undefined).map((p) => [p.name, p.default]));
    const v1 = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        ...wsDefaults,
        model: first.model,
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: ids.length - k - 1,
        temperature: 0,
        logprobs: true,
        cache: false,
        continue_from: { tokens: ids.slice(0, k + 1) },
      }),
    });
    assert.equal(v1.status, 200, await v1.clone().text());
    const v1body = await v1.json();
    const again = v1body.choices[0].logprobs.content.map((e) => e.token_id);
    if (process.env.DEBUG_INSPECTOR) console.log(JSON.stringify({ wsDefaults, fork: fork.logprobs.map((e) => [e.index, e.token_id, e.text]), v1: v1body.choices[0].logprobs.content.map((e) => [e.token_id, e.token]), v1text: v1body.choices[0].message.content, forkText: fork.content }));
    assert.deepEqual(again, ids.slice(k + 1), "the branch continued from exactly those token ids");

    // The inspector followed the new branch; both branches are listed and can be compared.
    await inspector(page).getByText("forked at token 3").waitFor();
    await inspector(page).getByLabel("compare").check();
    const compare = inspector(page).getByLabel("The two answers side by side from where they differ");
    await compare.waitFor();
    await compare.getByText(`Shared first ${k} tokens`).waitFor();
    await screenshot(page, "inspector-compare-light");

    // Exports: the JSON carries every token; the HTML page shows them offline, with no script.
    const [jsonDownload] = await Promise.all([page.waitForEvent("download"), inspector(page).getByRole("button", { name: "Save as JSON" }).click()]);
    const exported = JSON.parse(readFileSync(await jsonDownload.path(), "utf8"));
    assert.equal(exported.format, "rmm.token-inspector/1");
    assert.deepEqual(exported.tokens.map((e) => e.token_id), ids);
    assert.equal(exported.text, fork.content);
    const [htmlDownload] = await Promise.all([page.waitForEvent("download"), inspector(page).getByRole("button", { name: "Save as HTML" }).click()]);
    const htmlPath = await htmlDownload.path();
    const html = readFileSync(htmlPath, "utf8");
    assert.doesNotMatch(html, /<script/i);
    const page2 = join(mkdtempSync(join(tmpdir(), "rmm-export-")), "tokens.html");
    copyFileSync(htmlPath, page2);
    const offline = await openPage(browser, "about:blank");
    await offline.context().setOffline(true);
    await offline.goto(pathToFileURL(page2).href);
    assert.equal(await offline.locator(".text span.t").count(), ids.length);
    const bg = await offline.locator(".text span.t").first().evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(bg, "rgba(0, 0, 0, 0)", "coloured offline");
    await screenshot(offline, "inspector-export-html");
    await offline.context().close();

    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(page.problems, []);

    // After a reload the stored answer opens in the inspector as it was.
    await page.reload();
    await page.waitForSelector("article.assistant .stats");
    await page.getByRole("button", { name: "Tokens" }).click();
    await inspector(page).waitFor();
    assert.equal(await tokenSpans(page).count(), ids.length);
    await inspector(page).getByText("forked at token 3").waitFor();
  });

  test("dark theme, and a 5,000-token answer with 20 alternatives per token", async () => {
    // Token data written through the history API (what the UI stores): the inspector's rendering is
    // what is under test here, at a size the small test model would take long to generate.
    const n = 5000;
    const logprobs = Array.from({ length: n }, (_, i) => {
      const p = 0.05 + 0.9 * Math.abs(Math.sin(i / 7));
      const alternatives = Array.from({ length: 20 }, (_, j) => ({
        token_id: (i * 20 + j) % 32000,
        text: j === 0 ? ` w${i}` : ` a${j}`,
        logprob: Math.log(j === 0 ? p : (1 - p) / 19),
      }));
      return { index: i, token_id: alternatives[0].token_id, text: i % 50 === 49 ? "\n" : ` w${i}`, logprob: Math.log(p), entropy: 3 * (1 - p), alternatives, t_ms: i };
    });
    const created = await fetch(`${server.url}/api/chat/history`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        title: "Long answer",
        messages: [
          { role: "user", content: "Write a lot" },
          { role: "assistant", content: logprobs.map((e) => e.text).join(""), model: "stories260k:f32", logprobs },
        ],
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = await created.json();
    const page = await chatPage({ colorScheme: "dark" });
    await page.goto(`${server.url}/#/chat/${id}`);
    await page.waitForSelector("article.assistant");
    const t0 = Date.now();
    await page.getByRole("button", { name: "Tokens" }).click();
    await inspector(page).waitFor();
    await page.waitForFunction((count) => document.querySelectorAll(".tokens .tok[data-i]").length === count, n);
    const openMs = Date.now() - t0;
    // Sweep the pointer over many tokens: the detail pane follows.
    const area = await inspector(page).locator(".tokens").boundingBox();
    for (let y = area.y + 10; y < area.y + area.height - 10; y += 24) await page.mouse.move(area.x + area.width / 2, y);
    await inspector(page).locator("#token-detail li").first().waitFor();
    assert.equal(await inspector(page).locator("#token-detail li").count(), 20);
    await screenshot(page, "inspector-long-dark");
    assert.deepEqual(await accessibilityProblems(page), []);
    console.log(`# 5,000 tokens x 20 alternatives: inspector open in ${openMs} ms`);
  });
});
