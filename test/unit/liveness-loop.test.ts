import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RedisDatabase } from "../../src/database";
import { fencedTtl } from "../../src/fencing";
import type { Identity } from "../../src/liveness";
import { LivenessLoop } from "../../src/liveness-loop";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";
import { RedisCommandError } from "../../src/errors";
import type { LuaScript } from "../../src/scripts/script";
import { useGlobalTimers } from "../../src/timers";

// pulselock takes the real timers when it loads (fake timers in an app's tests must not stop it); these tests of pure
// logic drive it with vitest's fakes instead.
useGlobalTimers();

const WRITE_MS = 2000;
const TTL_MS = 10000;
const FENCED = fencedTtl(TTL_MS);

interface Call {
  script: LuaScript;
  keys: string[];
  args: string[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

function setup(paced = false) {
  const calls: Call[] = [];
  const db = {
    run: vi.fn((script: LuaScript, keys: string[], args: string[]) => {
      return new Promise<unknown>((resolve, reject) => calls.push({ script, keys, args, resolve, reject }));
    }),
    processKey: (h: string) => `p:${h}`,
  };
  const T0 = Date.now();
  // The injected clock; fake timers move it (Date is faked), in ms since setup.
  const now = vi.fn(() => Date.now() - T0 + 1_000);
  const onWritten = vi.fn<(identity: Identity, sentAt: number, byLoop: boolean) => void>();
  const onLapse = vi.fn<(identity: Identity) => void>();
  const onError = vi.fn<(error: unknown) => void>();
  const onRefused = vi.fn<(identity: Identity, error: unknown) => void>();
  const loop = new LivenessLoop(db as unknown as RedisDatabase, {
    reportWriteMs: WRITE_MS,
    reportTtlMs: TTL_MS,
    now,
    data: "host=test pid=1",
    onWritten,
    onLapse,
    onError,
    onRefused,
    paced,
  });
  const reports = () => calls.filter((c) => c.script === REPORT);
  return { calls, reports, db, now, onWritten, onLapse, onError, onRefused, loop };
}

/** Lets pending promise callbacks run without moving the clock. */
const flush = () => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

const A: Identity = { processHash: "a".repeat(32), generation: 1 };
const B: Identity = { processHash: "b".repeat(32), generation: 2 };

describe("LivenessLoop", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes at once with mode "" and then every reportWriteMs with mode "XX"', async () => {
    const s = setup();
    s.loop.start(A);
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]!.script).toBe(REPORT);
    expect(s.calls[0]!.keys).toEqual([`p:${A.processHash}`]);
    expect(s.calls[0]!.args).toEqual(["host=test pid=1", String(TTL_MS), ""]);
    s.calls[0]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenCalledTimes(1);

    await advance(WRITE_MS - 1);
    expect(s.calls).toHaveLength(1);
    await advance(1);
    expect(s.calls).toHaveLength(2);
    expect(s.calls[1]!.args).toEqual(["host=test pid=1", String(TTL_MS), "XX"]);
    expect(s.calls[1]!.keys).toEqual([`p:${A.processHash}`]);
    s.calls[1]!.resolve("OK");
    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(3);
    expect(s.calls[2]!.args[2]).toBe("XX");
    expect(s.onLapse).not.toHaveBeenCalled();
    expect(s.onError).not.toHaveBeenCalled();
  });

  it("reports the SEND time of each write, not the reply time, and keeps the cadence from it", async () => {
    const s = setup();
    s.loop.start(A);
    const sent0 = s.now.mock.results[0]!.value as number;
    await advance(700); // the reply takes 700 ms
    s.calls[0]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenCalledExactlyOnceWith(A, sent0, true);

    // The next write is due reportWriteMs after the send time, i.e. 1300 ms after the reply.
    await advance(WRITE_MS - 700 - 1);
    expect(s.calls).toHaveLength(1);
    await advance(1);
    expect(s.calls).toHaveLength(2);
    const sent1 = sent0 + WRITE_MS;
    await advance(1234);
    s.calls[1]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenLastCalledWith(A, sent1, true);
    expect(s.onWritten).toHaveBeenCalledTimes(2);
  });

  it("a nil reply to an XX write is a lapse, and the loop stops writing that identity", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    expect(s.calls[1]!.args[2]).toBe("XX");
    s.calls[1]!.resolve(null);
    await flush();
    expect(s.onLapse).toHaveBeenCalledExactlyOnceWith(A);
    expect(s.onWritten).toHaveBeenCalledTimes(1);
    await advance(10 * TTL_MS);
    expect(s.calls).toHaveLength(2);
    expect(s.onLapse).toHaveBeenCalledTimes(1);
    // Nothing left to delete: stop() sends no REMOVE for a lapsed identity.
    await s.loop.stop();
    expect(s.calls).toHaveLength(2);
  });

  it("a successful reply that arrives after previousSendTime + fencedTtl(reportTtlMs) is a lapse", async () => {
    const s = setup();
    s.loop.start(A);
    const sent0 = s.now.mock.results[0]!.value as number;
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(2);
    // The XX write is in flight; its reply comes 1 ms after the previous write's fenced deadline.
    const replyAt = sent0 + FENCED + 1;
    await advance(replyAt - (sent0 + WRITE_MS));
    expect(s.now()).toBe(replyAt);
    s.calls[1]!.resolve("OK");
    await flush();
    expect(s.onLapse).toHaveBeenCalledExactlyOnceWith(A);
    expect(s.onWritten).toHaveBeenCalledTimes(1);
    await advance(10 * TTL_MS);
    expect(s.calls).toHaveLength(2);
  });

  it("a successful reply just before the fenced deadline is no lapse", async () => {
    const s = setup();
    s.loop.start(A);
    const sent0 = s.now.mock.results[0]!.value as number;
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    await advance(sent0 + FENCED - 1 - (sent0 + WRITE_MS));
    s.calls[1]!.resolve("OK");
    await flush();
    expect(s.onLapse).not.toHaveBeenCalled();
    expect(s.onWritten).toHaveBeenLastCalledWith(A, sent0 + WRITE_MS, true);
    // Late, so the next write goes out at once (its due time has passed).
    await flush();
    expect(s.calls).toHaveLength(3);
    expect(s.calls[2]!.args[2]).toBe("XX");
  });

  it("errors go to onError and the loop keeps going", async () => {
    const s = setup();
    s.loop.start(A);
    const boom = new Error("ECONNRESET");
    s.calls[0]!.reject(boom);
    await flush();
    expect(s.onError).toHaveBeenCalledExactlyOnceWith(boom);
    expect(s.onWritten).not.toHaveBeenCalled();

    // Before the first success it retries soon, still without XX.
    await advance(Math.min(WRITE_MS, 250));
    expect(s.calls).toHaveLength(2);
    expect(s.calls[1]!.args[2]).toBe("");
    s.calls[1]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenCalledTimes(1);

    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(3);
    const boom2 = new Error("LOADING");
    s.calls[2]!.reject(boom2);
    await flush();
    expect(s.onError).toHaveBeenLastCalledWith(boom2);
    expect(s.onLapse).not.toHaveBeenCalled();

    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(4);
    expect(s.calls[3]!.args[2]).toBe("XX");
    s.calls[3]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenCalledTimes(2);
    expect(s.onLapse).not.toHaveBeenCalled();
  });

  it("an error that arrives after the fenced deadline is reported and is a lapse", async () => {
    const s = setup();
    s.loop.start(A);
    const sent0 = s.now.mock.results[0]!.value as number;
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    await advance(sent0 + FENCED + 1 - (sent0 + WRITE_MS));
    const err = new Error("Command timed out");
    s.calls[1]!.reject(err);
    await flush();
    expect(s.onError).toHaveBeenCalledExactlyOnceWith(err);
    expect(s.onLapse).toHaveBeenCalledExactlyOnceWith(A);
    await advance(10 * TTL_MS);
    expect(s.calls).toHaveLength(2);
  });

  it("stop() deletes the current record with the REMOVE script and stops writing", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.resolve("OK");
    await flush();
    const stopped = s.loop.stop();
    expect(s.calls).toHaveLength(2);
    expect(s.calls[1]!.script).toBe(REMOVE);
    expect(s.calls[1]!.keys).toEqual([`p:${A.processHash}`]);
    expect(s.calls[1]!.args).toEqual([]);
    let done = false;
    void stopped.then(() => (done = true));
    await flush();
    expect(done).toBe(false); // it waits for the delete
    s.calls[1]!.resolve(1);
    await flush();
    expect(done).toBe(true);
    await advance(10 * TTL_MS);
    expect(s.calls).toHaveLength(2);
  });

  it("stop() while a write is in flight ignores that write's reply", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(2);
    const stopped = s.loop.stop();
    expect(s.calls[2]!.script).toBe(REMOVE);
    s.calls[2]!.resolve(1);
    await stopped;
    s.calls[1]!.resolve(null);
    await flush();
    expect(s.onLapse).not.toHaveBeenCalled();
    expect(s.onWritten).toHaveBeenCalledTimes(1);
    await advance(10 * TTL_MS);
    expect(s.calls).toHaveLength(3);
  });

  it("stop() before any start() sends nothing", async () => {
    const s = setup();
    await s.loop.stop();
    expect(s.db.run).not.toHaveBeenCalled();
  });

  it("start() with a new identity ignores a late reply of the old one", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(2); // A's XX write in flight

    s.loop.start(B);
    expect(s.calls).toHaveLength(3);
    expect(s.calls[2]!.keys).toEqual([`p:${B.processHash}`]);
    expect(s.calls[2]!.args[2]).toBe(""); // a new identity starts without XX

    // A's late reply, whatever it is, changes nothing.
    s.calls[1]!.resolve(null);
    await advance(TTL_MS);
    expect(s.onLapse).not.toHaveBeenCalled();
    expect(s.onWritten).toHaveBeenCalledTimes(1);
    expect(s.onWritten).toHaveBeenLastCalledWith(A, expect.any(Number), true);
    expect(s.calls).toHaveLength(3);

    s.calls[2]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenCalledTimes(2);
    expect(s.onWritten).toHaveBeenLastCalledWith(B, expect.any(Number), true);
    await advance(WRITE_MS);
    expect(s.calls).toHaveLength(4);
    expect(s.calls[3]!.keys).toEqual([`p:${B.processHash}`]);
    expect(s.calls[3]!.args[2]).toBe("XX");
    // Only B is written from now on.
    expect(
      s
        .reports()
        .slice(2)
        .every((c) => c.keys[0] === `p:${B.processHash}`),
    ).toBe(true);
  });

  it("start() with a new identity ignores a late success and a late error of the old one", async () => {
    const s = setup();
    s.loop.start(A);
    s.loop.start(B);
    s.calls[0]!.resolve("OK"); // A's first write
    await flush();
    expect(s.onWritten).not.toHaveBeenCalled();

    s.calls[1]!.resolve("OK"); // B's first write
    await flush();
    expect(s.onWritten).toHaveBeenCalledExactlyOnceWith(B, expect.any(Number), true);

    const s2 = setup();
    s2.loop.start(A);
    s2.loop.start(B);
    s2.calls[0]!.reject(new Error("old"));
    await flush();
    expect(s2.onError).not.toHaveBeenCalled();
    // And no retry timer for A either.
    await advance(WRITE_MS);
    expect(s2.calls.filter((c) => c.keys[0] === `p:${A.processHash}`)).toHaveLength(1);
  });

  it("after a lapse, start() with a new identity writes again from scratch", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.resolve("OK");
    await advance(WRITE_MS);
    s.calls[1]!.resolve(null);
    await flush();
    expect(s.onLapse).toHaveBeenCalledWith(A);
    s.loop.start(B);
    expect(s.calls[2]!.keys).toEqual([`p:${B.processHash}`]);
    expect(s.calls[2]!.args[2]).toBe("");
    s.calls[2]!.resolve("OK");
    await flush();
    expect(s.onWritten).toHaveBeenLastCalledWith(B, expect.any(Number), true);
  });

  it("a first write refused for good (not transient) gives the identity up at once; a transient one is retried", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.reject(new RedisCommandError("report", "LOADING", true, "LOADING Redis is loading"));
    await flush();
    expect(s.onRefused).not.toHaveBeenCalled();
    await advance(WRITE_MS);
    expect(s.reports().length).toBeGreaterThan(1);
    const refusal = new RedisCommandError("report", "NOPERM", false, "NOPERM no permissions");
    s.reports().at(-1)!.reject(refusal);
    await flush();
    expect(s.onRefused).toHaveBeenCalledWith(A, refusal);
    const count = s.reports().length;
    await advance(WRITE_MS * 5);
    expect(s.reports()).toHaveLength(count); // nothing more is written for A
    expect(s.onWritten).not.toHaveBeenCalled();
  });

  it("after a first success, a refused write is an error like any other, not a refusal", async () => {
    const s = setup();
    s.loop.start(A);
    s.calls[0]!.resolve("OK");
    await flush();
    await advance(WRITE_MS);
    s.reports()
      .at(-1)!
      .reject(new RedisCommandError("report", "NOPERM", false, "NOPERM no permissions"));
    await flush();
    expect(s.onRefused).not.toHaveBeenCalled();
    expect(s.onError).toHaveBeenCalledTimes(1);
  });

  describe("paced by beats (Cloudflare Workers), where a request that ended never settles the write it sent", () => {
    /** A paced loop whose first write of A succeeded, reportWriteMs ago: a rewrite is due. */
    async function rewriteDue() {
      const s = setup(true);
      s.loop.start(A);
      s.calls[0]!.resolve("OK");
      await flush();
      await advance(WRITE_MS);
      return s;
    }

    it("a beat's write that never comes back holds the next one back for reportWriteMs, no longer", async () => {
      const s = await rewriteDue();
      expect(s.loop.beat()).toBeInstanceOf(Promise); // due: sent, and never answered (its request ended)
      expect(s.reports()).toHaveLength(2);
      await advance(WRITE_MS - 1);
      expect(s.loop.beat()).toBeUndefined(); // still out, not yet overdue
      expect(s.reports()).toHaveLength(2);
      await advance(1);
      const sent = s.now();
      void s.loop.beat();
      expect(s.reports()).toHaveLength(3);
      expect(s.reports()[2]!.args[2]).toBe("XX");
      s.reports()[2]!.resolve("OK");
      await flush();
      // A beat's write moves the deadline and is no start's first write.
      expect(s.onWritten).toHaveBeenLastCalledWith(A, sent, false);
      expect(s.onLapse).not.toHaveBeenCalled();
    });

    it("a caller's own write (writeOnce) starts the rewrites when the loop's first write never came back", async () => {
      const s = setup(true);
      s.loop.start(A); // its request ended: this write is never answered
      expect(s.loop.beat()).toBeUndefined(); // nothing written yet: nothing to rewrite
      const own = s.loop.writeOnce(A);
      expect(s.reports()[1]!.args[2]).toBe(""); // no success yet: it creates the record
      s.reports()[1]!.resolve("OK");
      await own;
      await advance(WRITE_MS);
      void s.loop.beat();
      expect(s.reports()).toHaveLength(3);
      expect(s.reports()[2]!.args[2]).toBe("XX"); // a rewrite: a lapsed record is never brought back
    });

    it("a start whose first write fails after a caller's own write succeeded learns of that success from its own write", async () => {
      const s = setup(true);
      s.loop.start(A); // the start's first write, slow
      const ownSent = s.now();
      const own = s.loop.writeOnce(A); // another request's own write of A
      s.reports()[1]!.resolve("OK");
      await own;
      expect(s.onWritten).toHaveBeenLastCalledWith(A, ownSent, false);
      s.reports()[0]!.reject(new RedisCommandError("report", "ERR", true, "proxy: status 502"));
      await flush();
      // Reported to the start (byLoop), with the success that stands; no retry is sent, the beats take over.
      expect(s.onError).toHaveBeenCalledTimes(1);
      expect(s.onWritten).toHaveBeenLastCalledWith(A, ownSent, true);
      await advance(WRITE_MS - 1);
      expect(s.reports()).toHaveLength(2);
      expect(s.onLapse).not.toHaveBeenCalled();
    });

    it("a start whose first write fails with nothing written yet retries, and reports no success", async () => {
      const s = setup(true);
      s.loop.start(A);
      s.reports()[0]!.reject(new RedisCommandError("report", "ERR", true, "proxy: status 502"));
      await flush();
      expect(s.onWritten).not.toHaveBeenCalled();
      await advance(WRITE_MS);
      expect(s.reports()).toHaveLength(2);
      expect(s.reports()[1]!.args[2]).toBe("");
    });

    it("an older write that succeeds after a newer one moves nothing back, and is no lapse", async () => {
      const s = await rewriteDue();
      void s.loop.beat(); // write 1, slow
      await advance(WRITE_MS);
      const sent2 = s.now();
      void s.loop.beat(); // write 2: write 1 is overdue
      s.reports()[2]!.resolve("OK");
      await flush();
      expect(s.onWritten).toHaveBeenLastCalledWith(A, sent2, false);
      await advance(FENCED - WRITE_MS - 1); // write 1 answers late against write 0, in time against write 2
      s.reports()[1]!.resolve("OK");
      await flush();
      expect(s.onWritten).toHaveBeenCalledTimes(2);
      expect(s.onLapse).not.toHaveBeenCalled();
    });
  });
});
