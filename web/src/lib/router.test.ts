import { expect, test } from "vitest";
import { href, parseRoute } from "./router.svelte";

test("hash routes name the screen and the conversation", () => {
  expect(parseRoute("")).toEqual({ screen: "chat", conversation: null });
  expect(parseRoute("#/")).toEqual({ screen: "chat", conversation: null });
  expect(parseRoute("#/chat/abc123")).toEqual({ screen: "chat", conversation: "abc123" });
  expect(parseRoute("#/models")).toEqual({ screen: "models" });
  expect(parseRoute("#/dashboard")).toEqual({ screen: "dashboard" });
  expect(parseRoute("#/prompts")).toEqual({ screen: "prompts", template: null });
  expect(parseRoute("#/prompts/coding-assistant")).toEqual({ screen: "prompts", template: "coding-assistant" });
  expect(parseRoute(href({ screen: "prompts", template: "a b" }))).toEqual({ screen: "prompts", template: "a b" });
  expect(parseRoute("#/nonsense")).toEqual({ screen: "chat", conversation: null });
  for (const r of [parseRoute("#/chat/x%2Fy"), parseRoute("#/models"), parseRoute("#/")]) {
    expect(parseRoute(href(r))).toEqual(r);
  }
});
