import { describe, expect, it } from "vitest";
import { backoffMs } from "../../src/backoff";

const ceiling = (attempt: number, base: number, max: number) => Math.min(max, base * 2 ** attempt);

describe("backoffMs", () => {
  it("stays within [0.5, 1] × min(max, base·2^attempt) with the real random", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (let i = 0; i < 50; i++) {
        const c = ceiling(attempt, 100, 2000);
        const ms = backoffMs(attempt, 100, 2000);
        expect(ms).toBeGreaterThanOrEqual(c * 0.5);
        expect(ms).toBeLessThanOrEqual(c);
      }
    }
  });

  it("hits both ends of the jitter range with an injected random", () => {
    expect(backoffMs(0, 100, 2000, () => 0)).toBe(50);
    expect(backoffMs(0, 100, 2000, () => 1)).toBe(100);
    expect(backoffMs(0, 100, 2000, () => 0.5)).toBe(75);
    expect(backoffMs(3, 100, 2000, () => 0)).toBe(400);
    expect(backoffMs(3, 100, 2000, () => 1)).toBe(800);
  });

  it("doubles per attempt until the cap", () => {
    const top = (attempt: number) => backoffMs(attempt, 100, 2000, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6].map(top)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it("is capped at max for any attempt, also huge ones, and stays finite", () => {
    for (const attempt of [5, 10, 31, 100, 1_000, 1e9, Number.MAX_SAFE_INTEGER]) {
      const hi = backoffMs(attempt, 100, 2000, () => 1);
      const lo = backoffMs(attempt, 100, 2000, () => 0);
      expect(hi).toBe(2000);
      expect(lo).toBe(1000);
      expect(Number.isFinite(hi)).toBe(true);
    }
  });

  it("has a monotone non-decreasing ceiling", () => {
    let previous = 0;
    for (let attempt = 0; attempt < 64; attempt++) {
      const top = backoffMs(attempt, 7, 5000, () => 1);
      expect(top).toBeGreaterThanOrEqual(previous);
      expect(top).toBe(ceiling(attempt, 7, 5000));
      previous = top;
    }
  });

  it("is deterministic for an injected random", () => {
    const seq = [0.1, 0.9, 0.33, 0.77];
    const run = () => {
      let i = 0;
      const random = () => seq[i++ % seq.length]!;
      return [0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, 100, 2000, random));
    };
    expect(run()).toEqual(run());
    expect(run()[1]).toBeCloseTo(200 * (0.5 + 0.9 / 2), 10);
  });

  it("calls random once per call", () => {
    let calls = 0;
    backoffMs(2, 100, 2000, () => {
      calls++;
      return 0.5;
    });
    expect(calls).toBe(1);
  });

  it("respects a max below base", () => {
    expect(backoffMs(0, 500, 200, () => 1)).toBe(200);
    expect(backoffMs(0, 500, 200, () => 0)).toBe(100);
  });
});
