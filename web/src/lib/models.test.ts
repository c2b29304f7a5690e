import { describe, expect, it } from "vitest";
import { filterModels, fitEstimate, speedEntries, type ModelInfo } from "./models";

const m = (over: Partial<ModelInfo>): ModelInfo => ({ id: "x", name: "x", path: "/x", size: 1, loaded: false, ...over });

describe("fitEstimate", () => {
  it("compares the file size with the device that has the most left", () => {
    const devs = [
      { device: "CPU", budget: 100, available: 40 },
      { device: "CUDA0", budget: 100, available: 90 },
    ];
    expect(fitEstimate(50, devs)).toMatchObject({ fits: true, free: 90, device: "CUDA0", tight: false });
    expect(fitEstimate(80, devs)).toMatchObject({ fits: true, tight: true });
    expect(fitEstimate(95, devs)).toMatchObject({ fits: false });
    expect(fitEstimate(10, [])).toBeNull();
  });
});

describe("filterModels", () => {
  const list = [
    m({ name: "llama3:8b", kind: "chat", tags: ["fast"], loaded: true }),
    m({ name: "nomic-embed", kind: "embedding", aliases: ["embed"] }),
  ];
  it("filters by words, kind and loaded", () => {
    expect(filterModels(list, "", "", false)).toHaveLength(2);
    expect(filterModels(list, "FAST", "", false).map((x) => x.name)).toEqual(["llama3:8b"]);
    expect(filterModels(list, "embed", "", false).map((x) => x.name)).toEqual(["nomic-embed"]);
    expect(filterModels(list, "", "embedding", false).map((x) => x.name)).toEqual(["nomic-embed"]);
    expect(filterModels(list, "", "", true).map((x) => x.name)).toEqual(["llama3:8b"]);
  });
});

describe("speedEntries", () => {
  it("lists speeds per backend", () => {
    const e = speedEntries(m({ speeds: { CPU: { prompt_tokens_per_second: 100, generation_tokens_per_second: 20, runs: 3 } } }));
    expect(e).toEqual([{ backend: "CPU", prompt: 100, generation: 20, runs: 3 }]);
  });
});
