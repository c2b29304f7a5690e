// The model library (/api/models) and what is loaded (/api/models/loaded).
import { getJson, request, sendJson } from "./api";
import { parseSse } from "./pull";
import type { LoadedModel } from "./socket.svelte";
import type { RecentSpeeds } from "./usage";

export interface ModelInfo {
  id: string;
  name: string; // the registry's short name: what requests use
  aliases?: string[];
  tags?: string[];
  path: string;
  size: number;
  kind?: string;
  architecture?: string;
  parameters?: number;
  quantization?: string;
  context_length?: number;
  model_name?: string;
  use_count?: number;
  last_used?: number | null;
  loaded: boolean;
  chat_template_fallback?: string;
  speeds?: Record<string, { prompt_tokens_per_second: number; generation_tokens_per_second: number; runs: number }>;
}

export interface DeviceMemory {
  device: string;
  weights?: number;
  kv_cache?: number;
  compute?: number;
  output?: number;
  runtime?: number;
}

// What the WebSocket's load_complete says of a model, and more.
export interface LoadedModelInfo extends LoadedModel {
  worker: { pid: number } | null;
  running: number;
  queued: number;
  loaded_at: number;
  memory: { total: number; gpu_layers: number; devices: DeviceMemory[] };
  last_use: number;
  pinned: boolean;
  keep_alive: number;
  expires_at: number | null;
}

export interface LoadedState {
  models: LoadedModelInfo[];
  loading: string[] | number | boolean;
  loads_started: number;
  devices: { device: string; budget: number; available: number; gpu?: boolean }[];
  // The generations of the last window_s seconds (see usage.ts's RecentSpeeds).
  recent?: RecentSpeeds;
}

// The name a request should use for a model: its short name when it has one.
export function modelName(m: Pick<ModelInfo, "name" | "id">): string {
  return m.name || m.id;
}

export async function listModels(): Promise<ModelInfo[]> {
  const res = await getJson<{ models: ModelInfo[] }>("/api/models");
  return res.models;
}

export async function loadedModels(): Promise<LoadedState> {
  return getJson<LoadedState>("/api/models/loaded");
}

export async function unloadModel(name: string): Promise<void> {
  await sendJson("POST", "/api/models/unload", { model: name });
}

export interface HubModel {
  id: string; // OWNER/REPO
  downloads?: number;
  likes?: number;
  last_modified?: string;
}

export async function searchHub(q: string, limit = 20, signal?: AbortSignal): Promise<HubModel[]> {
  const res = await getJson<{ models: HubModel[] }>(`/api/models/search?q=${encodeURIComponent(q)}&limit=${limit}`, { signal });
  return res.models;
}

export async function pinModel(name: string, pin: boolean): Promise<LoadedModelInfo> {
  const res = await sendJson<{ model: LoadedModelInfo }>("POST", "/api/models/pin", { model: name, pin });
  return res.model;
}

export async function deleteModel(name: string): Promise<{ deleted: string; files: string[] }> {
  return sendJson("DELETE", `/api/models/${encodeURIComponent(name)}`);
}

// A folder the registry scans: the main one, configured ones ([models]
// extra_dirs) and those added from here or with `rmm models add-folder`.
export interface ModelFolder {
  path: string;
  source: "main" | "config" | "added";
  exists: boolean;
  models: number;
}

export async function listFolders(): Promise<ModelFolder[]> {
  return (await getJson<{ folders: ModelFolder[] }>("/api/models/folders")).folders;
}

export async function addFolder(path: string): Promise<{ folder: ModelFolder; models: { id: string; path: string }[] }> {
  return sendJson("POST", "/api/models/folders", { path });
}

export async function removeFolder(path: string): Promise<{ models_forgotten: { id: string }[] }> {
  return sendJson("DELETE", `/api/models/folders?path=${encodeURIComponent(path)}`);
}

// POSTs a body that asks for a stream and hands each SSE event to onEvent.
// Errors before the stream begins are thrown as ApiError (the server's words).
export async function postStream(path: string, body: unknown, onEvent: (ev: unknown) => void, signal?: AbortSignal): Promise<void> {
  const res = await request(path, { method: "POST", body: JSON.stringify(body), signal });
  if (!res.body) {
    const text = await res.text();
    for (const ev of parseSse("", text + "\n\n").events) onEvent(ev);
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const r = parseSse(rest, value);
    rest = r.rest;
    for (const ev of r.events) onEvent(ev);
  }
  if (rest.trim()) for (const ev of parseSse(rest, "\n\n").events) onEvent(ev);
}

export interface FitEstimate {
  needed: number; // the file's size: weights only, a lower bound
  free: number; // the most any one device has left
  device: string;
  fits: boolean;
  tight: boolean; // fits, but with less than a quarter to spare for the KV cache
}

// Whether a model's file fits what the devices have left. An estimate: the
// planner also needs room for the KV cache and compute buffers.
export function fitEstimate(size: number, devices: LoadedState["devices"] | undefined): FitEstimate | null {
  if (!devices?.length || !(size > 0)) return null;
  let best = devices[0];
  for (const d of devices) if (d.available > best.available) best = d;
  const free = best.available;
  return { needed: size, free, device: best.device, fits: size <= free, tight: size <= free && size * 1.25 > free };
}

// Speeds as one short line: "CPU 120 / 35 tok/s" (prompt / generation).
export function speedEntries(m: Pick<ModelInfo, "speeds">): { backend: string; prompt: number; generation: number; runs: number }[] {
  return Object.entries(m.speeds ?? {}).map(([backend, s]) => ({
    backend,
    prompt: s.prompt_tokens_per_second,
    generation: s.generation_tokens_per_second,
    runs: s.runs,
  }));
}

// The library filtered by text (name, aliases, tags, quantization, architecture), kind and loaded.
export function filterModels(models: ModelInfo[], text: string, kind: string, loadedOnly: boolean): ModelInfo[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return models.filter((m) => {
    if (kind && (m.kind ?? "") !== kind) return false;
    if (loadedOnly && !m.loaded) return false;
    const hay = [m.name, m.id, m.model_name, m.quantization, m.architecture, ...(m.aliases ?? []), ...(m.tags ?? [])]
      .filter(Boolean)
      .join(" ")
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}
