// The web UI's numbers for bench/README.md: JavaScript and CSS shipped
// (gzipped, as rmm serves them), the first contentful paint of / from the
// embedded assets, and the frame rate while an answer streams.
//   RMM_BIN=build/rmm RMM_SHARED_MODELS=../shared/models node bench/web/web_numbers.mjs
// (run from the repository root; uses tests/web's playwright-core and helpers)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { launchBrowser, openPage, startServer } from "../../tests/web/support.mjs";
import { startPacedProxy } from "./paced_proxy.mjs";

// No response cache: the second run generates again rather than replaying the first.
const server = await startServer({ args: ["--no-cache"] });
const browser = await launchBrowser();
try {
  // Sizes as served: the embedded files are the build's, gzipped at level 9.
  const dist = process.env.RMM_WEB_DIST ?? "build/web/dist";
  const sizes = { js: 0, css: 0 };
  for (const f of readdirSync(join(dist, "assets"))) {
    const gz = gzipSync(readFileSync(join(dist, "assets", f)), { level: 9 }).length;
    if (f.endsWith(".js")) sizes.js += gz;
    if (f.endsWith(".css")) sizes.css += gz;
  }
  const page = await openPage(browser, "about:blank");
  const paints = [];
  for (let i = 0; i < 5; i++) {
    const p = await openPage(browser, server.url);
    await p.waitForSelector("#composer");
    paints.push(
      await p.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN),
    );
    await p.context().close();
  }
  await page.goto(server.url);
  await page.waitForSelector("#composer");
  await page.waitForTimeout(300);

  // Frames while a long answer streams (greedy, 600 tokens): once at the server's full speed, once
  // at exactly 200 tokens/s through bench/web/paced_proxy.mjs (the server's own messages, held until
  // the answer completes, then released one token every 5 ms), so the page sees what a 200 tokens/s
  // model would send whatever this machine's speed.
  const proxy = await startPacedProxy(new URL(server.url), 200);
  let base = server.url;
  const frameRun = async () => {
    await page.goto(`${base}/#/`);
    await page.evaluate(() => localStorage.setItem("rmm.settings", JSON.stringify({ params: { max_tokens: 600, temperature: 0 } })));
    await page.reload();
    await page.waitForSelector("#composer");
    await page.waitForFunction(() => document.querySelector(".conn")?.textContent?.includes("Connected"));
    await page.fill("#composer", "Once upon a time");
    await page.keyboard.press("Enter");
    await page.waitForSelector("article.assistant .plain.streaming", { timeout: 30000 });
    const r = await page.evaluate(
      () =>
        new Promise((resolve) => {
          let frames = 0;
          let longest = 0;
          let last = performance.now();
          const t0 = last;
          const tick = (t) => {
            frames++;
            longest = Math.max(longest, t - last);
            last = t;
            if (document.querySelector("article.assistant .plain.streaming")) requestAnimationFrame(tick);
            else resolve({ frames, ms: t - t0, longest });
          };
          requestAnimationFrame(tick);
        }),
    );
    const stats = await page.locator("article.assistant .stats").last().innerText();
    return { ...r, tokens: Number(stats.match(/(\d+) tok\b/)?.[1] ?? NaN), stats };
  };
  const full = await frameRun();
  base = proxy.url;
  const stream = await frameRun();
  proxy.close();
  paints.sort((a, b) => a - b);
  console.log(`JS shipped (gzip): ${(sizes.js / 1024).toFixed(1)} KiB; CSS: ${(sizes.css / 1024).toFixed(1)} KiB`);
  console.log(`first contentful paint of /: median ${paints[2].toFixed(0)} ms (of ${paints.map((p) => p.toFixed(0)).join(", ")})`);
  for (const [what, r] of [["full speed", full], ["paced to 200 tokens/s", stream]]) {
    console.log(
      `while streaming at ${what} (${r.stats}): ${((r.frames * 1000) / r.ms).toFixed(1)} frames/s over ${r.ms.toFixed(0)} ms from the answer's start to its Markdown render, longest frame ${r.longest.toFixed(1)} ms`,
    );
  }
} finally {
  await browser.close();
  await server.dispose();
}
