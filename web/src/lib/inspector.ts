// The token inspector's logic: probabilities and ranks from token events,
// the colour scales, visible forms of whitespace and byte tokens, summary
// figures, the token ids of a fork, two branches aligned at their split,
// and the exports (JSON, and an HTML page that shows the colours offline).
import type { Alternative, TokenEvent } from "./socket.svelte";

export type Layer = "probability" | "entropy";

export function probability(logprob: number | null | undefined): number {
  return logprob === null || logprob === undefined || !Number.isFinite(logprob) ? 0 : Math.exp(logprob);
}

// The chosen token's rank among the alternatives (1 = the model's first choice). When the
// alternatives hold fewer tokens than the vocabulary and the chosen one is not among them,
// its rank is only known to be past them: { rank: n + 1, exact: false }.
export function rankOf(e: TokenEvent): { rank: number; exact: boolean } {
  const alts = e.alternatives ?? [];
  const at = alts.findIndex((a) => a.token_id === e.token_id);
  if (at >= 0) return { rank: at + 1, exact: true };
  const lp = e.logprob ?? -Infinity;
  const better = alts.filter((a) => (a.logprob ?? -Infinity) > lp).length;
  return better < alts.length ? { rank: better + 1, exact: true } : { rank: alts.length + 1, exact: false };
}

// Entropy in nats shown on a fixed scale, so colours mean the same in every answer: 0 (certain)
// to 4 nats (as uncertain as a uniform choice among about 55 tokens) and beyond.
export const ENTROPY_SCALE_MAX = 4;

// A sequential scale that changes lightness monotonically (readable with any colour vision and in
// greyscale), with hue as a second cue: pale yellow for a sure token, deep violet for an unlikely one.
// `t` is 0 (unremarkable) to 1 (remarkable).
export function scaleColour(t: number, layer: Layer): { background: string; color: string } {
  const x = Math.min(1, Math.max(0, t));
  let lightness = 0.97 - 0.6 * x;
  // Text is black on light steps and white on dark ones, each at a contrast of 4.5:1 or more (WCAG
  // AA); around L 0.565 neither reaches it, so the scale steps over that band.
  if (lightness > 0.545 && lightness < 0.59) lightness = lightness >= 0.5675 ? 0.59 : 0.545;
  const chroma = 0.03 + 0.14 * Math.sin(Math.PI * Math.min(x * 0.9 + 0.1, 1) * 0.5);
  const hue = layer === "probability" ? 95 + 200 * x : 190 + 80 * x;
  return {
    background: `oklch(${lightness.toFixed(3)} ${chroma.toFixed(3)} ${hue.toFixed(1)})`,
    color: lightness < 0.5675 ? "#fff" : "#000",
  };
}

// How remarkable a token is on a layer (0..1): improbable, or chosen from a wide distribution.
export function layerValue(e: TokenEvent, layer: Layer): number {
  if (layer === "probability") return 1 - probability(e.logprob);
  const h = e.entropy;
  return h === undefined || h === null || !Number.isFinite(h) ? 0 : Math.min(1, h / ENTROPY_SCALE_MAX);
}

export function tokenColour(e: TokenEvent, layer: Layer): { background: string; color: string } {
  return scaleColour(layerValue(e, layer), layer);
}

// A token's text made visible: spaces as a middle dot, tabs as an arrow, line breaks as a return
// sign (the break itself kept, so the text keeps its lines), and a token whose bytes end inside a
// character (its text empty, or U+FFFD) as ‹bytes›.
export function visibleText(text: string): { shown: string; special: boolean } {
  if (text === "" || text === "\uFFFD") return { shown: "‹bytes›", special: true };
  if (/^[ \t\n\r]+$/.test(text)) {
    return { shown: text.replace(/ /g, "·").replace(/\t/g, "→").replace(/\r?\n/g, "↵\n"), special: true };
  }
  const shown = text.replace(/\r?\n/g, "↵\n").replace(/\t/g, "→").replace(/\uFFFD/g, "‹?›");
  return { shown, special: shown !== text };
}

// The text of an alternative for the panel: whitespace named, bytes marked.
export function altLabel(a: Pick<Alternative, "text">): string {
  if (a.text === "") return "‹bytes›";
  return a.text
    .replace(/ /g, "·")
    .replace(/\r?\n/g, "↵")
    .replace(/\t/g, "→")
    .replace(/\uFFFD/g, "‹?›")
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export interface Summary {
  tokens: number;
  meanLogprob: number;
  perplexity: number;
  meanEntropy: number | null;
  lowest: { index: number; probability: number }[]; // the least likely tokens, least first
}

export function summarize(events: readonly TokenEvent[], lowestCount = 5): Summary {
  let sum = 0;
  let n = 0;
  let hsum = 0;
  let hn = 0;
  for (const e of events) {
    if (e.logprob !== null && Number.isFinite(e.logprob)) {
      sum += e.logprob;
      n++;
    }
    if (e.entropy !== undefined && e.entropy !== null && Number.isFinite(e.entropy)) {
      hsum += e.entropy;
      hn++;
    }
  }
  const mean = n ? sum / n : NaN;
  const lowest = events
    .map((e, i) => ({ index: i, probability: probability(e.logprob) }))
    .sort((a, b) => a.probability - b.probability || a.index - b.index)
    .slice(0, lowestCount);
  return { tokens: events.length, meanLogprob: mean, perplexity: Math.exp(-mean), meanEntropy: hn ? hsum / hn : null, lowest };
}

// The token ids a fork continues from: the answer's first `at` tokens, then the chosen one.
export function forkPrefix(events: readonly TokenEvent[], at: number, chosen: number): number[] {
  if (at < 0 || at > events.length) throw new RangeError(`no token at ${at}`);
  return [...events.slice(0, at).map((e) => e.token_id), chosen];
}

// The token events a forked answer keeps: the source's first `at` events, the chosen alternative
// as the event at `at` (its probability from the source's distribution), then the new ones. So a
// stored fork is complete from its first token and can be forked again.
export function forkEvents(source: readonly TokenEvent[], at: number, chosen: Alternative, fresh: readonly TokenEvent[]): TokenEvent[] {
  const base = source[at];
  const picked: TokenEvent = {
    index: at,
    token_id: chosen.token_id,
    text: chosen.text,
    logprob: chosen.logprob,
    alternatives: base?.alternatives ?? [],
    t_ms: 0,
  };
  if (base?.entropy !== undefined) picked.entropy = base.entropy;
  return [...source.slice(0, at), picked, ...fresh];
}

// Two answers side by side from the first token where they differ (`split`: the shared prefix's length).
export function alignAtSplit(a: readonly TokenEvent[], b: readonly TokenEvent[]): { split: number; left: TokenEvent[]; right: TokenEvent[] } {
  let split = 0;
  while (split < a.length && split < b.length && a[split].token_id === b[split].token_id) split++;
  return { split, left: a.slice(split), right: b.slice(split) };
}

export interface InspectorExport {
  format: "rmm.token-inspector/1";
  model: string;
  text: string;
  summary: Summary;
  tokens: TokenEvent[];
}

export function exportJson(model: string, events: readonly TokenEvent[]): InspectorExport {
  return {
    format: "rmm.token-inspector/1",
    model,
    text: events.map((e) => e.text).join(""),
    summary: summarize(events),
    tokens: [...events],
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function percent(p: number): string {
  return p >= 0.995 ? "100%" : p < 0.001 ? "<0.1%" : `${(p * 100).toFixed(1)}%`;
}

// A standalone page (no script, no network) with the answer coloured by probability; each token's
// tooltip lists its probability, entropy and alternatives. For sharing and archiving a generation.
export function exportHtml(model: string, events: readonly TokenEvent[], title = "Token inspector export"): string {
  const s = summarize(events);
  const spans = events
    .map((e, i) => {
      const { background, color } = tokenColour(e, "probability");
      const v = visibleText(e.text);
      const alts = (e.alternatives ?? []).map((a) => `${altLabel(a)}  ${percent(probability(a.logprob))}`).join("\n");
      const tip = `#${i}  ${percent(probability(e.logprob))}${e.entropy !== undefined ? `  entropy ${e.entropy.toFixed(3)} nats` : ""}\n${alts}`;
      return `<span class="t${v.special ? " s" : ""}" style="background:${background};color:${color}" title="${escapeHtml(tip)}">${escapeHtml(v.shown)}</span>`;
    })
    .join("");
  const legend = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => {
      const { background, color } = scaleColour(t, "probability");
      return `<span style="background:${background};color:${color}">${percent(1 - t)}</span>`;
    })
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:15px/1.6 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff}
.text{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:14px;line-height:1.9}
.t{border-radius:3px;padding:1px 0}.s{opacity:.85;font-style:italic}
.legend span{display:inline-block;padding:2px 8px;font-size:12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{color:#555}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<dl><dt>Model</dt><dd>${escapeHtml(model)}</dd><dt>Tokens</dt><dd>${s.tokens}</dd>
<dt>Mean log-probability</dt><dd>${s.meanLogprob.toFixed(3)}</dd><dt>Perplexity</dt><dd>${s.perplexity.toFixed(3)}</dd>
${s.meanEntropy !== null ? `<dt>Mean entropy</dt><dd>${s.meanEntropy.toFixed(3)} nats</dd>` : ""}</dl>
<p class="legend">Probability of each token: ${legend} (hover a token for its alternatives)</p>
<div class="text">${spans}</div>
</body></html>
`;
}
