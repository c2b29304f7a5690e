import { expect, test } from "vitest";
import { renderMarkdown } from "./markdown";

// Sanitizing is checked in Chromium (tests/web: a stored answer full of script), where
// DOMPurify meets the real DOM; happy-dom's attribute handling differs.

test("links open in a new tab without a referrer", () => {
  const html = renderMarkdown("[docs](https://example.org)");
  expect(html).toContain('href="https://example.org"');
  expect(html).toContain('target="_blank"');
  expect(html).toContain("noopener");
});

test("code blocks are highlighted for known languages and escaped for others", () => {
  const py = renderMarkdown("```python\ndef f(x):\n    return x\n```");
  expect(py).toContain('class="hljs-keyword"');
  expect(py).toContain("code-copy");
  const other = renderMarkdown("```brainfuck\n<script>\n```");
  expect(other).toContain("&lt;script&gt;");
  expect(other).not.toContain("<script>");
});

test("GitHub tables and lists render", () => {
  const html = renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n- x\n- y");
  expect(html).toContain("<table>");
  expect(html).toContain("<li>x</li>");
});
