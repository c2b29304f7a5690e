// What the browser tests share: a real `rmm serve` on loopback with real tiny
// models, Debian's Chromium through playwright-core (headless, no sandbox, no
// GPU, a fresh profile), screenshots as artifacts and an axe-core check.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
export const rmmBin = process.env.RMM_BIN ?? process.env.RMM_BIN_DEFAULT;
export const sharedModels = process.env.RMM_SHARED_MODELS ?? process.env.RMM_SHARED_MODELS_DEFAULT;
export const artifacts = process.env.RMM_WEB_ARTIFACTS ?? join(process.cwd(), "screenshots");
const chromiumPath = process.env.RMM_CHROMIUM ?? "/usr/bin/chromium";

// Why the tests cannot run here, or "" when they can (node --test prints it with # SKIP).
export function missing() {
  if (!rmmBin) return "RMM_BIN is not set";
  if (!sharedModels) return "RMM_SHARED_MODELS is not set";
  try {
    readFileSync(chromiumPath, { flag: "r" }).length;
  } catch {
    return `no Chromium at ${chromiumPath} (apt-get install chromium, or set RMM_CHROMIUM)`;
  }
  return "";
}

// Starts `rmm serve` on a free port with a fresh RMM_HOME whose models folder
// holds copies of the named shared models. `stop()` ends it; `restart()`
// starts it again on the same port and database (a server restart).
// `prepare(server)` runs before the first start (e.g. to make API keys in its
// database); `env` is added to the server's environment.
export async function startServer({ models = ["stories260K.gguf"], args = [], env = {}, prepare } = {}) {
  const home = mkdtempSync(join(tmpdir(), "rmm-web-"));
  const modelsDir = join(home, "models");
  mkdirSync(modelsDir, { recursive: true });
  for (const m of models) copyFileSync(join(sharedModels, m), join(modelsDir, m));
  const server = { home, modelsDir, database: join(home, "rmm.db"), url: "", port: 0, proc: null, log: "" };
  const launch = async (port) => {
    const argv = [
      "serve",
      "--host", "127.0.0.1",
      "--port", String(port),
      "--models-dir", modelsDir,
      "--database", server.database,
      "--parallel", "2",
      ...args,
    ];
    const proc = spawn(rmmBin, argv, { env: { ...process.env, ...env, RMM_HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    server.proc = proc;
    server.log = "";
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rmm serve did not start:\n${server.log}`)), 30000);
      const onData = (chunk) => {
        server.log += chunk.toString();
        const m = server.log.match(/listening on (http:\/\/[^\s/]+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      proc.stdout.on("data", onData);
      proc.stderr.on("data", onData);
      proc.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`rmm serve exited with ${code}:\n${server.log}`));
      });
    });
    server.url = url;
    server.port = Number(new URL(url).port);
  };
  if (prepare) await prepare(server);
  await launch(0);
  server.stop = async () => {
    const proc = server.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  };
  server.restart = async () => {
    await server.stop();
    await launch(server.port);
  };
  server.dispose = async () => {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  };
  return server;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--no-first-run",
      "--metrics-recording-only",
    ],
  });
}

// A page on a fresh context (a fresh profile) that records console errors and
// CSP violations, so a test can assert the page ran cleanly.
export async function openPage(browser, url, { colorScheme = "light", viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ colorScheme, viewport });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") page.problems.push(msg.text());
  });
  page.on("pageerror", (err) => page.problems.push(String(err)));
  await page.goto(url);
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// axe-core's serious and critical violations on the page as it is now.
// Injected through the debugger, which the page's CSP does not govern.
const axeSource = readFileSync(join(dirname(require.resolve("axe-core")), "axe.min.js"), "utf8");
export async function accessibilityProblems(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

// tests/hub/fake_hub.py (a local stand-in for the Hugging Face Hub) serving
// `root`; resolves with its base URL. `stop()` ends it.
export async function startFakeHub(root) {
  const script = new URL("../hub/fake_hub.py", import.meta.url).pathname;
  const proc = spawn(process.env.RMM_PYTHON ?? "python3", [process.env.RMM_FAKE_HUB ?? script, root], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (c) => {
      out += c;
      const m = out.match(/^(\d+)\s*$/m);
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", (code) => reject(new Error(`fake_hub.py exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => proc.kill("SIGTERM"),
  };
}

// The chat screen of `url` on a fresh page, connected. Generation settings come from localStorage
// at start: short greedy answers keep tests fast and repeatable.
export async function openChatPage(browser, url, { params = { max_tokens: 24, temperature: 0 }, colorScheme = "light", viewport } = {}) {
  const page = await openPage(browser, "about:blank", { colorScheme, viewport });
  await page.context().addInitScript((p) => {
    if (!localStorage.getItem("rmm.settings")) localStorage.setItem("rmm.settings", JSON.stringify({ params: p }));
  }, params);
  await page.goto(url);
  await page.waitForSelector("#composer");
  await page.waitForFunction(() => document.querySelector(".conn")?.textContent?.includes("Connected"));
  return page;
}

// The conversation the page shows (its id from the route).
export function conversationIdOf(page) {
  const m = page.url().match(/#\/chat\/([0-9a-f]+)/);
  assert.ok(m, `the page is on a conversation (${page.url()})`);
  return m[1];
}

// The server's own record of a conversation (the history API).
export async function storedConversation(url, id) {
  const res = await fetch(`${url}/api/chat/history/${id}`);
  assert.equal(res.status, 200);
  return res.json();
}
