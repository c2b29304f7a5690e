import { expect, test } from "vitest";
import { ago, bytes, count, duration, rate } from "./format";

test("bytes use binary units with sensible digits", () => {
  expect(bytes(0)).toBe("0 B");
  expect(bytes(1536)).toBe("1.50 KiB");
  expect(bytes(7.14 * 1024 * 1024)).toBe("7.14 MiB");
  expect(bytes(300 * 1024 ** 3)).toBe("300 GiB");
  expect(bytes(undefined)).toBe("–");
});

test("durations, rates and counts", () => {
  expect(duration(12.4)).toBe("12 ms");
  expect(duration(2500)).toBe("2.50 s");
  expect(duration(125000)).toBe("2 min 5 s");
  expect(rate(0)).toBe("–");
  expect(rate(42.25)).toBe("42.3 tok/s");
  expect(rate(1234.5)).toBe("1235 tok/s");
  expect(count(8.03e9)).toBe("8.0B");
  expect(count(260000)).toBe("260.0K");
});

test("ago says how long since", () => {
  const now = Date.UTC(2026, 11, 3, 12);
  expect(ago(now - 10_000, now)).toBe("just now");
  expect(ago(now - 5 * 60_000, now)).toBe("5 min ago");
  expect(ago(now - 3 * 3600_000, now)).toBe("3 h ago");
  expect(ago(now - 30 * 3600_000, now)).toBe("yesterday");
});
