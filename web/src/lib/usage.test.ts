import { describe, expect, it } from "vitest";
import {
  clock,
  cpuSeries,
  cpuShare,
  gpuShare,
  historyToAsk,
  keepAliveLeft,
  mergeSamples,
  ramSeries,
  ramShare,
  recentFigures,
  rmmVram,
  slotsInUse,
  summarize,
  vramSeries,
  type LoadedModel,
  type UsageSample,
} from "./usage";

const GiB = 1024 ** 3;

function sample(t: number, over: Partial<UsageSample> = {}): UsageSample {
  return {
    time_ms: t,
    cpus: 4,
    process: { cpu_percent: 20, rss: 1 * GiB },
    workers: { count: 1, cpu_percent: 180, rss: 3 * GiB },
    system: { cpu_percent: 75, ram_total: 16 * GiB, ram_available: 6 * GiB, ram_used: 10 * GiB },
    gpus: [],
    ...over,
  };
}

function model(over: Partial<LoadedModel> = {}): LoadedModel {
  return { id: "m", running: 0, queued: 0, slots: 4, keep_alive: 300, expires_at: 1000, pinned: false, ...over };
}

describe("shares", () => {
  it("puts rmm's CPU (server + workers) against the machine's", () => {
    // (20 + 180) / 4 cores = 50% of the machine; the machine is 75% busy.
    expect(cpuShare(sample(0))).toEqual({ rmm: 50, other: 25, free: 25, total: 100 });
  });

  it("never lets the machine be less busy than rmm", () => {
    const s = sample(0, { system: { ...sample(0).system, cpu_percent: 30 } });
    expect(cpuShare(s)).toEqual({ rmm: 50, other: 0, free: 50, total: 100 });
  });

  it("splits RAM into rmm, the rest and free", () => {
    expect(ramShare(sample(0))).toEqual({ rmm: 4 * GiB, other: 6 * GiB, free: 6 * GiB, total: 16 * GiB });
  });

  it("splits VRAM by the loaded models' planned memory, capped at what is used", () => {
    const gpu = { name: "CUDA0", memory_total: 24 * GiB, memory_free: 14 * GiB, memory_used: 10 * GiB };
    const models = [
      model({ memory: { total: 9 * GiB, devices: [{ device: "CPU", total: 1 * GiB }, { device: "CUDA0", total: 8 * GiB }] } }),
      model({ memory: { total: 4 * GiB, devices: [{ device: "CUDA1", total: 4 * GiB }] } }),
    ];
    const rmm = rmmVram(models, [gpu, { ...gpu, name: "CUDA1" }], 0);
    expect(rmm).toBe(8 * GiB);
    expect(gpuShare(gpu, rmm)).toEqual({ rmm: 8 * GiB, other: 2 * GiB, free: 14 * GiB, total: 24 * GiB });
    expect(gpuShare(gpu, 20 * GiB).rmm).toBe(10 * GiB);
  });

  it("matches devices by index when GPU names are descriptions", () => {
    const gpu = { name: "NVIDIA H200", memory_total: 8, memory_free: 4, memory_used: 4 };
    const models = [model({ memory: { total: 3, devices: [{ device: "CUDA1", total: 3 }] } })];
    expect(rmmVram(models, [gpu, gpu], 1)).toBe(3);
    expect(rmmVram(models, [gpu, gpu], 0)).toBe(0);
  });
});

describe("samples", () => {
  it("merges fetched samples without duplicates and keeps the newest", () => {
    const kept = [sample(1000), sample(2000)];
    const merged = mergeSamples(kept, [sample(2000), sample(3000)], 2);
    expect(merged.map((s) => s.time_ms)).toEqual([2000, 3000]);
    expect(mergeSamples(kept, [sample(1000)])).toBe(kept);
  });

  it("asks for everything first, then for the gap", () => {
    expect(historyToAsk(null, 0)).toBe(300);
    expect(historyToAsk(10_000, 11_000)).toBe(2);
    expect(historyToAsk(10_000, 20_000)).toBe(11);
    expect(historyToAsk(0, 1e9)).toBe(300);
  });

  it("shapes chart series with x in seconds", () => {
    const s = [sample(1000), sample(2000)];
    expect(cpuSeries(s)).toEqual([[1, 2], [50, 50], [75, 75]]);
    expect(ramSeries(s)).toEqual([[1, 2], [4 * GiB, 4 * GiB], [10 * GiB, 10 * GiB]]);
    const g = { name: "CUDA0", memory_total: 10, memory_free: 7, memory_used: 3 };
    expect(vramSeries([sample(1000, { gpus: [g] }), sample(2000)], 0)).toEqual([[1, 2], [3, null]]);
  });

  it("summarizes a series, skipping gaps", () => {
    expect(summarize([1, null, 3, 2])).toEqual({ latest: 2, min: 1, max: 3, avg: 2 });
    expect(summarize([null])).toEqual({ latest: null, min: null, max: null, avg: null });
  });
});

describe("models", () => {
  it("counts slots in use", () => {
    expect(slotsInUse(model({ running: 2 }))).toBe(2);
    expect(slotsInUse(model({ running: 6, slots: 4 }))).toBe(4);
  });

  it("counts down the keep-alive", () => {
    expect(keepAliveLeft(model(), 700_000)).toBe(300);
    expect(keepAliveLeft(model(), 2_000_000)).toBe(0);
    expect(keepAliveLeft(model({ expires_at: null }), 0)).toBeNull();
    expect(keepAliveLeft(model({ pinned: true }), 0)).toBeNull();
    expect(keepAliveLeft(model({ keep_alive: -1 }), 0)).toBeNull();
  });

  it("formats a countdown", () => {
    expect(clock(245)).toBe("4:05");
    expect(clock(3723)).toBe("1:02:03");
    expect(clock(-3)).toBe("0:00");
  });
});

describe("recent speeds", () => {
  const recent = {
    window_s: 60,
    requests: 2,
    prompt_tokens_per_second: 800,
    generation_tokens_per_second: 42.345,
    time_to_first_token_ms: 180.4,
  };

  it("shows tokens/s and time to first token", () => {
    expect(recentFigures(recent)).toEqual({ tokensPerSecond: "42.3", timeToFirstToken: "180 ms" });
    expect(recentFigures({ ...recent, generation_tokens_per_second: 512.6, time_to_first_token_ms: 1234 })).toEqual({
      tokensPerSecond: "513",
      timeToFirstToken: "1.2 s",
    });
  });

  it("shows nothing without generations", () => {
    const none = { tokensPerSecond: null, timeToFirstToken: null };
    expect(recentFigures(undefined)).toEqual(none);
    expect(recentFigures(null)).toEqual(none);
    expect(
      recentFigures({
        window_s: 60,
        requests: 0,
        prompt_tokens_per_second: null,
        generation_tokens_per_second: null,
        time_to_first_token_ms: null,
      }),
    ).toEqual(none);
    expect(recentFigures({ ...recent, generation_tokens_per_second: null })).toEqual({
      tokensPerSecond: null,
      timeToFirstToken: "180 ms",
    });
  });
});
