import { describe, expect, test } from "vitest";
import {
  alignAtSplit,
  altLabel,
  exportHtml,
  exportJson,
  forkEvents,
  forkPrefix,
  layerValue,
  probability,
  rankOf,
  scaleColour,
  summarize,
  visibleText,
} from "./inspector";
import type { TokenEvent } from "./socket.svelte";

function ev(index: number, token_id: number, text: string, p: number, alts: [number, string, number][] = [], entropy: number | undefined = undefined): TokenEvent {
  const e: TokenEvent = {
    index,
    token_id,
    text,
    logprob: p > 0 ? Math.log(p) : null,
    alternatives: alts.map(([id, t, q]) => ({ token_id: id, text: t, logprob: q > 0 ? Math.log(q) : null })),
    t_ms: index,
  };
  if (entropy !== undefined) e.entropy = entropy;
  return e;
}

describe("probabilities and ranks", () => {
  test("probability is exp(logprob), 0 for null", () => {
    expect(probability(Math.log(0.25))).toBeCloseTo(0.25, 12);
    expect(probability(null)).toBe(0);
  });
  test("rank: position among the alternatives, or past them", () => {
    const alts: [number, string, number][] = [[1, "a", 0.5], [2, "b", 0.3], [3, "c", 0.1]];
    expect(rankOf(ev(0, 2, "b", 0.3, alts))).toEqual({ rank: 2, exact: true });
    expect(rankOf(ev(0, 9, "z", 0.05, alts))).toEqual({ rank: 4, exact: false });
    // Not listed but more likely than the last listed one (alternatives cut by count): its place is known.
    expect(rankOf(ev(0, 9, "z", 0.2, alts))).toEqual({ rank: 3, exact: true });
  });
});

describe("colour scales", () => {
  test("lightness falls monotonically with how remarkable a token is, on both layers", () => {
    for (const layer of ["probability", "entropy"] as const) {
      let last = 2;
      for (let t = 0; t <= 1.0001; t += 0.1) {
        const l = Number(/oklch\(([\d.]+)/.exec(scaleColour(t, layer).background)![1]);
        expect(l).toBeLessThanOrEqual(last);
        last = l;
      }
      expect(Number(/oklch\(([\d.]+)/.exec(scaleColour(1, layer).background)![1])).toBeLessThan(0.45);
    }
  });
  test("text stays readable: light text on dark backgrounds", () => {
    expect(scaleColour(0, "probability").color).toBe("#000");
    expect(scaleColour(1, "probability").color).toBe("#fff");
  });
  test("layer values: 1 - p, and entropy on a fixed 0..4 nats scale", () => {
    expect(layerValue(ev(0, 1, "a", 0.9), "probability")).toBeCloseTo(0.1, 12);
    expect(layerValue(ev(0, 1, "a", 0.9, [], 2), "entropy")).toBeCloseTo(0.5, 12);
    expect(layerValue(ev(0, 1, "a", 0.9, [], 9), "entropy")).toBe(1);
    expect(layerValue(ev(0, 1, "a", 0.9), "entropy")).toBe(0);
  });
});

describe("visible tokens", () => {
  test("whitespace and bytes are shown, not empty", () => {
    expect(visibleText(" ")).toEqual({ shown: "·", special: true });
    expect(visibleText("\n")).toEqual({ shown: "↵\n", special: true });
    expect(visibleText("\t")).toEqual({ shown: "→", special: true });
    expect(visibleText("")).toEqual({ shown: "‹bytes›", special: true });
    expect(visibleText("\uFFFD")).toEqual({ shown: "‹bytes›", special: true });
    expect(visibleText(" cat")).toEqual({ shown: " cat", special: false });
  });
  test("alternatives name whitespace, quotes stay quotes", () => {
    expect(altLabel({ text: " " })).toBe("·");
    expect(altLabel({ text: '"' })).toBe('"');
    expect(altLabel({ text: "\n" })).toBe("↵");
    expect(altLabel({ text: " the" })).toBe("·the");
    expect(altLabel({ text: "\u0001" })).toBe("\\x01");
    expect(altLabel({ text: "" })).toBe("‹bytes›");
  });
});

describe("summary", () => {
  test("mean log-probability, perplexity and the least likely tokens", () => {
    const events = [ev(0, 1, "a", 0.5, [], 1), ev(1, 2, "b", 0.25, [], 2), ev(2, 3, "c", 1, [], 0)];
    const s = summarize(events, 2);
    const mean = (Math.log(0.5) + Math.log(0.25) + 0) / 3;
    expect(s.meanLogprob).toBeCloseTo(mean, 12);
    expect(s.perplexity).toBeCloseTo(Math.exp(-mean), 12);
    expect(s.meanEntropy).toBeCloseTo(1, 12);
    expect(s.lowest.map((x) => x.index)).toEqual([1, 0]);
  });
});

describe("forks", () => {
  const source = [ev(0, 10, "Once", 0.9, [[10, "Once", 0.9], [11, "One", 0.05]]), ev(1, 20, " upon", 0.8, [[20, " upon", 0.8], [21, " there", 0.1]], 0.7), ev(2, 30, " a", 0.99)];
  test("the prefix is the first tokens, then the chosen one", () => {
    expect(forkPrefix(source, 1, 21)).toEqual([10, 21]);
    expect(forkPrefix(source, 0, 11)).toEqual([11]);
    expect(() => forkPrefix(source, 5, 1)).toThrow();
  });
  test("a fork's events are complete from its first token", () => {
    const fresh = [ev(2, 40, " was", 0.6)];
    const out = forkEvents(source, 1, source[1].alternatives[1], fresh);
    expect(out.map((e) => e.token_id)).toEqual([10, 21, 40]);
    expect(out[1].index).toBe(1);
    expect(out[1].alternatives).toEqual(source[1].alternatives);
    expect(out[1].entropy).toBe(0.7);
    expect(probability(out[1].logprob)).toBeCloseTo(0.1, 12);
  });
  test("two branches align at their first difference", () => {
    const other = [source[0], ev(1, 21, " there", 0.1), ev(2, 40, " was", 0.6)];
    const a = alignAtSplit(source, other);
    expect(a.split).toBe(1);
    expect(a.left.map((e) => e.token_id)).toEqual([20, 30]);
    expect(a.right.map((e) => e.token_id)).toEqual([21, 40]);
  });
});

describe("exports", () => {
  const events = [ev(0, 1, "<b>", 0.5, [[1, "<b>", 0.5], [2, "x", 0.2]], 1.2), ev(1, 2, "\n", 0.9)];
  test("JSON carries every token and the text", () => {
    const j = exportJson("m:q8_0", events);
    expect(j.format).toBe("rmm.token-inspector/1");
    expect(j.text).toBe("<b>\n");
    expect(j.tokens).toHaveLength(2);
    expect(j.summary.tokens).toBe(2);
  });
  test("the HTML page escapes model text and needs no script", () => {
    const html = exportHtml("m:q8_0", events);
    expect(html).not.toContain("<b>");
    expect(html).toContain("&lt;b&gt;");
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("entropy 1.200 nats");
    expect((html.match(/class="t( s)?"/g) ?? []).length).toBe(2);
  });
});
