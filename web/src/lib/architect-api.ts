// The Prompt Architect's calls: /api/prompts/templates (versions, diff),
// /api/prompts/build and the streamed /api/prompts/run.
import { ApiError, getJson, request, sendJson } from "./api";
import type { BuildResult, FormValue, PromptTemplate, TemplateDiff, VersionInfo } from "./architect";
import { parseSse } from "./pull";
import type { TokenEvent } from "./socket.svelte";

const base = "/api/prompts/templates";
const one = (id: string) => `${base}/${encodeURIComponent(id)}`;

export type SavedTemplate = PromptTemplate & { id: string; version: number; unchanged?: boolean };

export async function listTemplates(): Promise<SavedTemplate[]> {
  return (await getJson<{ templates: SavedTemplate[] }>(base)).templates;
}

export async function getTemplate(id: string, version: number | null = null): Promise<SavedTemplate> {
  return getJson<SavedTemplate>(version ? `${one(id)}?version=${version}` : one(id));
}

export async function createTemplate(t: PromptTemplate): Promise<SavedTemplate> {
  return sendJson<SavedTemplate>("POST", base, t);
}

export async function saveVersion(id: string, t: PromptTemplate): Promise<SavedTemplate> {
  return sendJson<SavedTemplate>("PUT", one(id), { ...t, id });
}

export async function deleteTemplate(id: string): Promise<void> {
  await sendJson("DELETE", one(id));
}

export async function listVersions(id: string): Promise<VersionInfo[]> {
  return (await getJson<{ versions: VersionInfo[] }>(`${one(id)}/versions`)).versions;
}

export async function diffVersions(id: string, from: number, to: number): Promise<TemplateDiff> {
  return getJson<TemplateDiff>(`${one(id)}/diff?from=${from}&to=${to}`);
}

// Imports a file's template: a new template, or a new version of the one its id names
// (as `rmm prompt import` does).
export async function importTemplate(t: PromptTemplate): Promise<SavedTemplate> {
  if (t.id) {
    try {
      await getTemplate(t.id);
      return await saveVersion(t.id, t);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
  }
  return createTemplate(t);
}

export async function buildPrompt(
  template: PromptTemplate,
  values: Record<string, FormValue>,
  signal: AbortSignal | undefined = undefined,
): Promise<BuildResult> {
  const res = await request("/api/prompts/build", { method: "POST", body: JSON.stringify({ template, values }), signal });
  return res.json() as Promise<BuildResult>;
}

export interface RunEvents {
  onToken(text: string): void;
  onUsage(usage: { prompt_tokens?: number; completion_tokens?: number }): void;
  onFinish(reason: string | null): void;
  // Each token with its probability, entropy and alternatives.
  onTokenEvent?(e: TokenEvent): void;
}

// Alternatives asked per token of a run (its token view shows them).
export const RUN_ALTERNATIVES = 5;

// One /v1 logprobs entry (rmm adds token ids and the entropy).
export interface V1Logprob {
  token: string;
  logprob: number | null;
  token_id?: number;
  entropy?: number;
  top_logprobs?: { token: string; logprob: number | null; token_id?: number }[];
}

// A /v1 logprobs entry in the token event shape the inspector reads.
export function tokenEventFromV1(lp: V1Logprob, index: number): TokenEvent {
  const e: TokenEvent = {
    index,
    token_id: lp.token_id ?? -1,
    text: lp.token,
    logprob: lp.logprob,
    alternatives: (lp.top_logprobs ?? []).map((a) => ({ token_id: a.token_id ?? -1, text: a.token, logprob: a.logprob })),
    t_ms: 0,
  };
  if (lp.entropy !== undefined) e.entropy = lp.entropy;
  return e;
}

// What a run renders: the editor's template inline, or a saved one by id (and version).
export type RunTarget =
  | { template: PromptTemplate; values: Record<string, FormValue>; model: string }
  | { template_id: string; version: number | null; values: Record<string, FormValue>; model: string };

// Streams a run: each content delta and token event as it comes; resolves when the stream ends.
// `tokens` false leaves out the per-token data (a comparison shows answers and figures only).
export async function runPrompt(body: RunTarget, events: RunEvents, signal: AbortSignal, tokens = true): Promise<void> {
  const res = await request("/api/prompts/run", {
    method: "POST",
    body: JSON.stringify({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
      ...(tokens ? { logprobs: true, top_logprobs: RUN_ALTERNATIVES } : {}),
    }),
    signal,
  });
  if (!res.body) throw new ApiError(0, "the server sent no stream");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  let tokenIndex = 0;
  const handle = (events_: unknown[]) => {
    for (const ev of events_) {
      if (!ev || typeof ev !== "object") continue;
      const e = ev as {
        error?: { message?: string };
        choices?: { delta?: { content?: string }; finish_reason?: string | null; logprobs?: { content?: V1Logprob[] | null } | null }[];
        usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
      };
      if (e.error) throw new ApiError(500, e.error.message ?? "the run failed");
      const c = e.choices?.[0];
      for (const lp of c?.logprobs?.content ?? []) events.onTokenEvent?.(tokenEventFromV1(lp, tokenIndex++));
      if (c?.delta?.content) events.onToken(c.delta.content);
      if (c?.finish_reason) events.onFinish(c.finish_reason);
      if (e.usage) events.onUsage(e.usage);
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const r = parseSse(rest, value);
    rest = r.rest;
    handle(r.events);
  }
  if (rest.trim()) handle(parseSse(rest, "\n\n").events);
}
