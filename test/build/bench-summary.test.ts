import { describe, expect, it } from "vitest";
import { buildRows } from "../../bench/lib/report.mjs";
import { bestSetting, comparisons, median, summarizeRounds } from "../../bench/lib/summary.mjs";

/*
 * The bench's reporting logic, with made-up rounds: medians, each peer at its
 * better client setting, pulselock at its client's default, and the verdicts.
 * Nothing here is timed.
 */
type M = { pairsPerSec: number; serverUsPerPair: number; cpuUsPerPair: number };
const m = ({ pairsPerSec, serverUsPerPair, cpuUsPerPair }: M) => ({
  pairsPerSec,
  serverUsPerPair,
  cpuUsPerPair,
  commandsPerPair: 3,
  rounds: [pairsPerSec],
  breakdown: "",
  errors: 0,
});
const entry = (label: string, transport: string, ours: boolean, defaultSetting: string, settings: Record<string, Record<number, M>>) => ({
  label,
  transport,
  ours,
  defaultSetting,
  settings: Object.fromEntries(Object.entries(settings).map(([s, byC]) => [s, Object.fromEntries(Object.entries(byC).map(([c, x]) => [c, m(x)]))])),
});
const at = (pairsPerSec: number, serverUsPerPair = 10, cpuUsPerPair = 20) => ({ pairsPerSec, serverUsPerPair, cpuUsPerPair });

const results = {
  pulselock: entry("pulselock", "ioredis", true, "ap-off", {
    "ap-off": { 64: at(30_000, 4, 15), 1: at(5_000) },
    "ap-on": { 64: at(36_000, 3, 14), 1: at(4_000) },
  }),
  semaphore: entry("semaphore", "ioredis", false, "ap-off", {
    "ap-off": { 64: at(18_000, 9), 1: at(5_500, 50) },
    "ap-on": { 64: at(20_000, 6), 1: at(4_000, 40) },
  }),
  redlock: entry("redlock", "ioredis", false, "ap-off", { "ap-off": { 64: at(15_000, 12), 1: at(4_800) }, "ap-on": { 64: at(12_000, 5.5), 1: at(3_000) } }),
  "pulselock-upstash": entry("pulselock up", "upstash", true, "ap-on", { "ap-on": { 64: at(15_000), 1: at(400) } }),
  "upstash-lock": entry("upstash lock", "upstash", false, "ap-on", { "ap-on": { 64: at(12_000), 1: at(500) }, "ap-off": { 64: at(500), 1: at(450) } }),
};

describe("bench summary", () => {
  it("takes medians per metric, each on its own", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const s = summarizeRounds([
      { pairsPerSec: 10, serverUsPerPair: 9, cpuUsPerPair: 1, commandsPerPair: 3, breakdown: "a", errors: 0 },
      { pairsPerSec: 30, serverUsPerPair: 1, cpuUsPerPair: 3, commandsPerPair: 3, breakdown: "c", errors: 1 },
      { pairsPerSec: 20, serverUsPerPair: 5, cpuUsPerPair: 2, commandsPerPair: 3, breakdown: "b", errors: 0 },
    ]);
    expect(s).toMatchObject({ pairsPerSec: 20, serverUsPerPair: 5, cpuUsPerPair: 2, breakdown: "b", errors: 1, rounds: [10, 30, 20] });
  });

  it("a peer's better setting is the one with more pairs/s at that concurrency", () => {
    expect(bestSetting(results.semaphore, 64)?.setting).toBe("ap-on");
    expect(bestSetting(results.semaphore, 1)?.setting).toBe("ap-off");
  });

  it("compares pulselock at its default with the best peer at its better setting, and Redis CPU with the lowest peer row", () => {
    const byKey = Object.fromEntries(comparisons(results).map((k) => [`${k.what}@${k.c}`, k]));
    const pairs64 = byKey["pairs@64"]!;
    expect(pairs64.peer).toMatchObject({ name: "semaphore", setting: "ap-on" });
    expect(pairs64.ours.setting).toBe("ap-off");
    expect(pairs64.ratio).toBeCloseTo(1.5);
    expect(pairs64.ok).toBe(true);
    expect(pairs64.ratioAtBetter).toMatchObject({ setting: "ap-on" });
    expect(pairs64.ratioAtBetter!.ratio).toBeCloseTo(1.8);
    expect(byKey["pairs@1"]).toMatchObject({ peer: { name: "semaphore", setting: "ap-off" }, ok: false });
    // The lowest Redis CPU is redlock on its slower setting: "lowest" looks at every row.
    expect(byKey["redisCpu@64"]).toMatchObject({ peer: { name: "redlock", setting: "ap-on" } });
    expect(byKey["redisCpu@64"]!.ratio).toBeCloseTo(4 / 5.5);
    expect(byKey["redisCpu@64"]!.ok).toBe(true);
    expect(byKey["redisCpu@1"]!.ok).toBeUndefined();
    expect(byKey["upstashPairs@64"]).toMatchObject({ peer: { name: "upstash-lock", setting: "ap-on" }, ok: false });
  });

  it("prints a PASS or MISS for every target, and the HTTP request counts", () => {
    const rows = buildRows({
      uncontended: results,
      requests: {
        counting: "test",
        pulselock: {
          first: { total: 2, startedBeforeJob: 1, settledBeforeJob: 1, sequence: "a, b" },
          again: [{ total: 3, startedBeforeJob: 1, settledBeforeJob: 1, sequence: "a, b, c" }],
        },
        upstashLock: [{ total: 2, startedBeforeJob: 1, settledBeforeJob: 1, sequence: "x, y" }],
      },
    });
    const verdicts = rows.filter((r: { verdict: string }) => r.verdict).map((r: { what: string; verdict: string }) => [r.what.split(":")[0], r.verdict]);
    expect(verdicts).toEqual([
      ["c=64 pairs/s", "PASS"],
      ["c=1 pairs/s", "MISS"],
      ["c=64 Redis CPU µs/pair", "PASS"],
      ["c=64 pairs/s over Upstash REST", "MISS"],
      ["c=1 pairs/s over Upstash REST", "MISS"],
      ["HTTP requests per acquireAndRun, pulselock/core over @upstash/redis, new isolate", "PASS"],
      ["HTTP requests per acquireAndRun, same Locker idle again (most of 1)", "MISS"],
    ]);
  });
});
