// The dashboard's data: resource samples from /api/system/usage and the
// loaded models from /api/models/loaded, shaped into shares and chart series.
// Pure functions only (the screen polls; these are unit-tested).

export interface UsageSample {
  time_ms: number;
  interval_ms?: number;
  cpus: number;
  process: { cpu_percent: number; cpu_percent_total?: number; rss: number };
  workers: { count: number; cpu_percent: number; rss: number };
  system: {
    cpu_percent: number;
    cpu_percent_per_core?: number[];
    ram_total: number;
    ram_available: number;
    ram_used: number;
  };
  gpus: GpuSample[];
}

export interface GpuSample {
  name: string;
  memory_total: number;
  memory_free: number;
  memory_used: number;
}

export interface UsageResponse {
  interval_ms: number;
  capacity: number;
  samples: UsageSample[];
}

export interface ModelMemoryDevice {
  device: string;
  total?: number;
  weights?: number;
  kv_cache?: number;
  compute?: number;
  output?: number;
  runtime?: number;
}

export interface LoadedModel {
  id: string;
  path?: string;
  description?: string;
  running: number;
  queued: number;
  slots: number;
  context_size?: number;
  context_per_slot?: number;
  memory?: { total: number; gpu_layers?: number; devices?: ModelMemoryDevice[] };
  keep_alive?: number; // s, -1 forever
  expires_at?: number | null; // unix s, null: never
  last_use?: number;
  pinned?: boolean;
  worker?: { pid: number } | null;
}

// The generations that ended in the server's last window (cache replays not
// counted): rates are total tokens over total time, null when there were none.
export interface RecentSpeeds {
  window_s: number;
  requests: number;
  prompt_tokens?: number;
  generated_tokens?: number;
  prompt_tokens_per_second: number | null;
  generation_tokens_per_second: number | null;
  time_to_first_token_ms: number | null; // median of queue + prompt time
}

export interface LoadedResponse {
  models: LoadedModel[];
  loading?: boolean;
  loads_started?: number;
  devices?: { device: string; budget: number; available: number; gpu: boolean }[];
  recent?: RecentSpeeds;
}

// The dashboard's speed tiles: "42.5" tokens/s and "180 ms" (or "1.2 s") to
// the first token; null each when the window holds no generation (or no figure).
export function recentFigures(recent: RecentSpeeds | null | undefined): {
  tokensPerSecond: string | null;
  timeToFirstToken: string | null;
} {
  if (!recent || !(recent.requests > 0)) return { tokensPerSecond: null, timeToFirstToken: null };
  const tps = recent.generation_tokens_per_second;
  const ttft = recent.time_to_first_token_ms;
  return {
    tokensPerSecond: typeof tps === "number" && Number.isFinite(tps) ? (tps < 100 ? tps.toFixed(1) : String(Math.round(tps))) : null,
    timeToFirstToken:
      typeof ttft === "number" && Number.isFinite(ttft)
        ? ttft < 1000
          ? `${Math.round(ttft)} ms`
          : `${(ttft / 1000).toFixed(1)} s`
        : null,
  };
}

// What rmm uses of a resource against the rest of the machine. For CPU the
// unit is percent of all cores (0..100); for memory, bytes.
export interface Share {
  rmm: number;
  other: number;
  free: number;
  total: number;
}

const nonNeg = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);

// Splits `used` of `total` into rmm's part (at most `used`) and the rest.
function split(rmmRaw: number, used: number, total: number): Share {
  const t = nonNeg(total);
  const u = Math.min(nonNeg(used), t);
  const rmm = Math.min(nonNeg(rmmRaw), u);
  return { rmm, other: u - rmm, free: t - u, total: t };
}

// rmm's CPU (server + workers, where 100 = one core) as a percent of the
// whole machine, against the machine's total busy percent.
export function rmmCpuPercent(s: UsageSample): number {
  const cpus = s.cpus > 0 ? s.cpus : 1;
  return (nonNeg(s.process.cpu_percent) + nonNeg(s.workers.cpu_percent)) / cpus;
}

export function cpuShare(s: UsageSample): Share {
  // The server samples its own ticks and the machine's at slightly different
  // moments: the machine is at least as busy as rmm.
  const rmm = rmmCpuPercent(s);
  return split(rmm, Math.max(nonNeg(s.system.cpu_percent), Math.min(rmm, 100)), 100);
}

export function rmmRss(s: UsageSample): number {
  return nonNeg(s.process.rss) + nonNeg(s.workers.rss);
}

export function ramShare(s: UsageSample): Share {
  const total = s.system.ram_total;
  const used = s.system.ram_used || total - s.system.ram_available;
  return split(rmmRss(s), Math.max(nonNeg(used), Math.min(rmmRss(s), nonNeg(total))), total);
}

// The VRAM the loaded models were planned to take on a device (the usage
// sample counts every process on the GPU, not rmm's part of it). Devices are
// matched by name (e.g. "CUDA0"); the index is the fallback when a GPU's
// name is a description instead.
export function rmmVram(models: LoadedModel[], gpus: GpuSample[], index: number): number {
  const names = new Set(gpus.map((g) => g.name));
  let sum = 0;
  for (const m of models) {
    for (const d of m.memory?.devices ?? []) {
      if (d.device === "CPU") continue;
      const match = names.has(d.device)
        ? d.device === gpus[index]?.name
        : Number(/(\d+)$/.exec(d.device)?.[1] ?? -1) === index;
      if (match) sum += nonNeg(d.total ?? 0);
    }
  }
  return sum;
}

export function gpuShare(gpu: GpuSample, rmmBytes: number): Share {
  const used = gpu.memory_used || gpu.memory_total - gpu.memory_free;
  return split(rmmBytes, used, gpu.memory_total);
}

// Adds newly fetched samples (oldest first) to the kept ones, dropping
// duplicates by time and keeping at most `max`.
export function mergeSamples(kept: UsageSample[], incoming: UsageSample[], max = 300): UsageSample[] {
  const last = kept.length ? kept[kept.length - 1].time_ms : -Infinity;
  const fresh = incoming.filter((s) => s.time_ms > last);
  if (!fresh.length) return kept.length > max ? kept.slice(-max) : kept;
  // A gap (or a server restart: time went back) is simply appended; uPlot
  // draws it as it is.
  const out = kept.concat(fresh);
  return out.length > max ? out.slice(out.length - max) : out;
}

// How many samples to ask for: everything on the first call, then what the
// time since the last fetch (on this clock) needs, plus one for safety.
export function historyToAsk(lastFetchMs: number | null, now: number, intervalMs = 1000, max = 300): number {
  if (lastFetchMs === null) return max;
  const gap = Math.ceil((now - lastFetchMs) / Math.max(1, intervalMs)) + 1;
  return Math.max(2, Math.min(max, gap));
}

// uPlot's aligned data: [x (unix seconds), ...ys].
export type Series = [number[], ...(number | null)[][]];

export function cpuSeries(samples: UsageSample[]): Series {
  return [
    samples.map((s) => s.time_ms / 1000),
    samples.map((s) => round1(rmmCpuPercent(s))),
    samples.map((s) => round1(Math.max(nonNeg(s.system.cpu_percent), rmmCpuPercent(s)))),
  ];
}

export function ramSeries(samples: UsageSample[]): Series {
  return [
    samples.map((s) => s.time_ms / 1000),
    samples.map((s) => rmmRss(s)),
    samples.map((s) => ramShare(s).rmm + ramShare(s).other),
  ];
}

// Used VRAM of one GPU (by index); null where a sample lacks that GPU.
export function vramSeries(samples: UsageSample[], index: number): Series {
  return [
    samples.map((s) => s.time_ms / 1000),
    samples.map((s) => {
      const g = s.gpus?.[index];
      return g ? nonNeg(g.memory_used || g.memory_total - g.memory_free) : null;
    }),
  ];
}

export interface Summary {
  latest: number | null;
  min: number | null;
  max: number | null;
  avg: number | null;
}

export function summarize(values: (number | null)[]): Summary {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (!v.length) return { latest: null, min: null, max: null, avg: null };
  return {
    latest: v[v.length - 1],
    min: Math.min(...v),
    max: Math.max(...v),
    avg: v.reduce((a, b) => a + b, 0) / v.length,
  };
}

// "1 min 30 s" of samples, for labels.
export function spanSeconds(samples: UsageSample[]): number {
  return samples.length < 2 ? 0 : (samples[samples.length - 1].time_ms - samples[0].time_ms) / 1000;
}

export function slotsInUse(m: LoadedModel): number {
  return Math.min(nonNeg(m.running), nonNeg(m.slots));
}

// Seconds until a model's keep-alive runs out: null for never (pinned,
// keep_alive -1 or no expiry); 0 once due (it goes when its requests end).
export function keepAliveLeft(m: LoadedModel, nowMs: number): number | null {
  if (m.pinned || m.expires_at === null || m.expires_at === undefined || m.keep_alive === -1) return null;
  return Math.max(0, m.expires_at - nowMs / 1000);
}

// "4:05", "1:02:03", for a countdown.
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
