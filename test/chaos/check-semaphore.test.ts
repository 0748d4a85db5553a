import { describe, expect, it } from "vitest";
import { checkHistory, formatReport } from "../../chaos/check.mjs";

// Crafted histories of runs under semaphore permits: the checker counts runs acting at once per key.
const meta = { type: "meta", seed: "1", options: { reportTtlMs: 1000, reportWriteMs: 200 }, slackMs: 5, t: 0 };
let seq = 0;
function permitRun(runId: string, key: string, token: number, start: number, lastWrite: number, limit = 2) {
  const worker = runId.split("/")[0];
  return [
    { type: "run-start", run: runId, worker, key, token, start, t: start, limit },
    { type: "write", run: runId, worker, key, token, at: start, semaphore: true, seq: seq++, t: start },
    { type: "write", run: runId, worker, key, token, at: lastWrite, semaphore: true, seq: seq++, t: lastWrite },
    { type: "run-end", run: runId, worker, key, at: lastWrite + 1, t: lastWrite + 1, outcome: "released" },
  ];
}

describe("chaos checker: semaphores", () => {
  it("passes `limit` runs of one key at once, and is no lock overlap; reports the peak", () => {
    const result = checkHistory([meta, ...permitRun("w0.1/0", "s", 100, 1000, 2000), ...permitRun("w1.1/0", "s", 200, 1100, 1900)]);
    expect(result.total).toBe(0);
    expect(result.figures.semaphoreRuns).toBe(2);
    expect(result.figures.semaphorePeaks).toEqual({ s: 2 });
    expect(formatReport(result)).toContain("semaphore runs: 2; most acting at once per key: s 2");
  });

  it("flags a run that starts while `limit` others still act", () => {
    const v = checkHistory([
      meta,
      ...permitRun("w0.1/0", "s", 100, 1000, 2000),
      ...permitRun("w1.1/0", "s", 200, 1100, 1900),
      ...permitRun("w2.1/0", "s", 300, 1500, 1600),
    ]).violations;
    expect(v.semaphoreOverlap).toHaveLength(1);
    expect(v.semaphoreOverlap[0]?.detail).toMatch(/3 runs of semaphore s \(limit 2\) acted at once when w2\.1\/0 started/);
    expect(v.overlap).toHaveLength(0);
  });

  it("tolerates a handover within the slack, counts each key apart, and still checks tokens", () => {
    const v = checkHistory([
      meta,
      ...permitRun("w0.1/0", "s", 100, 1000, 1503),
      ...permitRun("w1.1/0", "s", 200, 1100, 1900),
      ...permitRun("w2.1/0", "s", 300, 1500, 1600),
      ...permitRun("w3.1/0", "t", 50, 1000, 2000),
      ...permitRun("w4.1/0", "t", 60, 1000, 2000),
    ]).violations;
    expect(v.semaphoreOverlap).toHaveLength(0);
    // Permits of one key are held at once: a permit taken first (token 200) whose reply came late may start its run
    // after a later permit's run (token 300) ended. That is no G5 violation; a token given twice is.
    const late = checkHistory([meta, ...permitRun("w0.1/0", "s", 300, 1000, 1100), ...permitRun("w1.1/0", "s", 200, 1200, 1300)]).violations;
    expect(late.tokenOrder).toHaveLength(0);
    const repeated = checkHistory([meta, ...permitRun("w0.1/0", "s", 300, 1000, 1100), ...permitRun("w1.1/0", "s", 300, 1200, 1300)]).violations;
    expect(repeated.tokenOrder).toHaveLength(1);
    expect(repeated.tokenOrder[0]?.detail).toMatch(/w1\.1\/0 got the token 300 of w0\.1\/0 on semaphore s/);
    // A lock's runs still keep start order.
    const lockRun = (runId: string, token: number, start: number) => permitRun(runId, "m", token, start, start + 50).map(({ limit: _, ...e }) => e);
    expect(checkHistory([meta, ...lockRun("w0.1/0", 300, 1000), ...lockRun("w1.1/0", 200, 1200)]).violations.tokenOrder).toHaveLength(1);
  });

  it("after a Redis restart that lost data, a run that started before it counts only until then", () => {
    const loss = { type: "fault", kind: "redis-restart-data-loss", t: 1400 };
    const events = [...permitRun("w0.1/0", "s", 100, 1000, 2000), ...permitRun("w1.1/0", "s", 200, 1100, 1900), ...permitRun("w2.1/0", "s", 300, 1500, 1600)];
    expect(checkHistory([meta, ...events, loss]).violations.semaphoreOverlap).toHaveLength(0);
    expect(checkHistory([meta, ...events]).violations.semaphoreOverlap).toHaveLength(1);
  });
});
