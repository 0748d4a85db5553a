import { describe, expect, it } from "vitest";
import { LockStatus } from "pulselock";
import { ACQUIRE } from "../../src/scripts/acquire";
import { EXTEND } from "../../src/scripts/extend";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { uniqueKey } from "../support/wait-for";
import type { Harness } from "./harness";

/**
 * Round trips of DESIGN §3, counted on the server: every operation of the
 * main thread is one EVALSHA (or EVAL), so the growth of those two counters
 * in INFO commandstats is the number of round trips. The liveness thread
 * writes rarely in these tests (reportWriteMs 60 s), so it adds nothing
 * while an operation is measured.
 */
export function roundTripsSuite(h: Harness): void {
  const QUIET = { reportWriteMs: 60_000, reportTtlMs: 120_000, lockRecheckMs: 60_000, lockExtendMs: 120_000 };

  async function scriptCalls(): Promise<number> {
    const info = String(await h.ctx.admin("INFO", "commandstats"));
    let calls = 0;
    for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(m[2]);
    return calls;
  }

  /** Loads the scripts on every node first, so a NOSCRIPT fallback (an extra EVAL) cannot be counted. */
  async function count(fn: () => Promise<unknown>): Promise<number> {
    for (const script of [ACQUIRE, EXTEND, READ, RELEASE]) await h.ctx.admin("SCRIPT", "LOAD", script.source);
    const before = await scriptCalls();
    await fn();
    return (await scriptCalls()) - before;
  }

  describe("round trips", () => {
    it("acquire on a free key 1, on a live holder's key 2, extend 1, release 1", async () => {
      const a = h.locker(QUIET);
      const b = h.locker(QUIET);
      const key = uniqueKey("rt");
      // Warm up: connections, liveness threads, and Redis's script cache (earlier tests may have flushed it).
      const warmKey = uniqueKey("warm");
      await b.acquire(uniqueKey("warm-b"));
      const warm = await a.acquire(warmKey);
      if (warm.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      await b.acquire(warmKey);
      await warm.extend();
      await a.release(warmKey, warm.lockData);

      let res: Awaited<ReturnType<typeof a.acquire>> | undefined;
      expect(await count(async () => (res = await a.acquire(key)))).toBe(1);
      if (res?.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      expect(await count(() => b.acquire(key))).toBe(2);
      expect(await count(() => (res as { extend: () => Promise<unknown> }).extend())).toBe(1);
      expect(await count(() => a.release(key, res!.lockData))).toBe(1);
    });

    it("takeover of a dead holder takes at most 3", async () => {
      const dying = h.locker(QUIET);
      const taker = h.locker(QUIET);
      const key = uniqueKey("rt-takeover");
      await taker.acquire(uniqueKey("warm"));
      expect((await dying.acquire(key)).status).toBe(LockStatus.SUCCESS);
      await dying.terminate();
      let status: LockStatus | undefined;
      expect(await count(async () => (status = (await taker.acquire(key)).status))).toBeLessThanOrEqual(3);
      expect(status).toBe(LockStatus.SUCCESS);
    });

    it("a heartbeat between intervals makes no call; a due recheck makes 1", async () => {
      const locker = h.locker({ ...QUIET, lockRecheckMs: 300 });
      await locker.acquireAndRun(uniqueKey("rt-heartbeat"), async (heartbeat) => {
        expect(
          await count(async () => {
            for (let i = 0; i < 100; i++) await heartbeat();
          }),
        ).toBe(0);
        await new Promise((r) => setTimeout(r, 320));
        expect(await count(() => Promise.all([heartbeat(), heartbeat(), heartbeat()]))).toBe(1);
      });
    });
  });
}
