import { describe, expect, it } from "vitest";
import { checkHistory, formatReport } from "../../chaos/check.mjs";

// Crafted histories with multi-key sets (chaos/multi-job.mjs: one run per key, `set` naming the set), each
// with one thing wrong, show that the checker covers every key of a set.
const meta = { type: "meta", seed: "1", options: { reportTtlMs: 1000, reportWriteMs: 200 }, slackMs: 5, t: 0 };
let seq = 0;
type Event = Record<string, unknown>;
function keyRun(
  runId: string,
  key: string,
  token: number,
  start: number,
  lastWrite: number,
  extra: Event = {},
  end: Event | null = { outcome: "released" },
): Event[] {
  const worker = runId.split("/")[0];
  const events: Event[] = [
    { type: "run-start", run: runId, worker, key, token, start, t: start, ...extra },
    { type: "write", run: runId, worker, key, token, at: start, accepted: true, seq: seq++, t: start },
    { type: "write", run: runId, worker, key, token, at: lastWrite, accepted: true, seq: seq++, t: lastWrite },
  ];
  if (end) events.push({ type: "run-end", run: runId, worker, key, at: lastWrite + 1, t: lastWrite + 1, ...end });
  return events;
}
/** A set of keys, all taken at `start` and written last at `lastWrite`, as one run per key. */
const set = (setId: string, keys: string[], token: number, start: number, lastWrite: number, end: Event | null = { outcome: "released" }) =>
  keys.flatMap((key, i) => keyRun(`${setId}:${i}`, key, token, start, lastWrite, { set: setId, setKeys: keys }, end));
const violationsOf = (events: Event[]) => checkHistory([meta, ...events]).violations;

describe("chaos checker, multi-key sets", () => {
  it("passes sets and single runs one after the other, and counts the sets", () => {
    const result = checkHistory([
      meta,
      ...set("w0.1/0", ["a", "b"], 100, 1000, 1500),
      ...keyRun("w1.1/0", "b", 200, 1600, 2000),
      ...set("w2.1/0", ["a", "b", "c"], 300, 2100, 2500),
    ]);
    expect(result.total).toBe(0);
    expect(result.figures.multiKeySets).toBe(2);
    expect(formatReport(result)).toMatch(/multi-key sets \(each key also counted as a run above\): 2, of which lost: 0/);
  });

  it("flags a set that still acted on one of its keys after a newer run of that key started (single or another set)", () => {
    expect(violationsOf([...set("w0.1/0", ["a", "b"], 100, 1000, 1700), ...keyRun("w1.1/0", "b", 200, 1600, 2000)]).overlap).toHaveLength(1);
    expect(violationsOf([...set("w0.1/0", ["a", "b"], 100, 1000, 1700), ...set("w1.1/0", ["c", "a"], 200, 1600, 2000)]).overlap).toHaveLength(1);
  });

  it("flags a set that acted on a key after its signal aborted for another key", () => {
    const lost = { outcome: "lost", returned: { at: 1800, aborted: true } };
    const abortAll = (at: number) => [0, 1].map((i) => ({ type: "abort", run: `w0.1/0:${i}`, at, t: at }));
    expect(violationsOf([...set("w0.1/0", ["a", "b"], 100, 1000, 1700, lost), ...abortAll(1600)]).setActedAfterLoss).toHaveLength(2);
    expect(violationsOf([...set("w0.1/0", ["a", "b"], 100, 1000, 1700, lost), ...abortAll(1750)]).setActedAfterLoss).toHaveLength(0);
  });

  it("counts a set's LockError as false only when every key of the set ran alone, once per set", () => {
    const lost = { outcome: "lost", returned: { at: 1500, aborted: false }, error: "Lost the lock" };
    expect(violationsOf(set("w0.1/0", ["a", "b"], 100, 1000, 1500, lost)).falseLockError).toHaveLength(1);
    // Another run took b meanwhile: the set lost b for real, and a with it.
    expect(violationsOf([...set("w0.1/0", ["a", "b"], 100, 1000, 1500, lost), ...keyRun("w1.1/0", "b", 200, 1400, 1450)]).falseLockError).toHaveLength(0);
  });
});
