import { afterEach, describe, expect, it } from "vitest";
import { LockStatus, isLockError, type LockData } from "pulselock";
import { killAll, startChild, type Child } from "../support/child-process";
import { uniqueKey } from "../support/wait-for";
import { FAST, type Harness } from "./harness";
import { acquireWhenFree, partitionRace } from "./partition";

function busyBlock(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // the main thread's event loop is blocked; only the liveness thread runs
  }
}

/** The guarantees G1–G6 of DESIGN §1, each shown against real Redis and real processes. */
export function guaranteesSuite(h: Harness): void {
  const children: Child[] = [];
  afterEach(() => killAll(children.splice(0)));
  const child = (fixture: string, args: string[]) => {
    const c = startChild(fixture, args);
    children.push(c);
    return c;
  };
  const childOptions = (extra: object = {}) => JSON.stringify({ prefix: h.ctx.childArgs().prefix, ...FAST, ...extra });

  describe("guarantees", () => {
    it("G1: many lockers racing for one key never hold it at once", async () => {
      const lockers = Array.from({ length: 6 }, () => h.locker());
      const key = uniqueKey("g1");
      let holders = 0;
      let maxHolders = 0;
      let runs = 0;
      await Promise.all(
        lockers.map(async (locker) => {
          for (let i = 0; i < 15; i++) {
            await locker.acquireAndRun(key, async (heartbeat) => {
              holders++;
              runs++;
              maxHolders = Math.max(maxHolders, holders);
              await heartbeat.delay(5);
              holders--;
            });
          }
        }),
      );
      expect(maxHolders).toBe(1);
      expect(runs).toBeGreaterThan(0);
    });

    it("G2: a main thread blocked for 3× reportTtlMs keeps its lock", async () => {
      const locker = h.locker();
      const key = uniqueKey("g2");
      const { url, prefix } = h.ctx.childArgs();
      await locker.acquireAndRun(key, async (heartbeat) => {
        const contender = child("contender.mjs", [url, key, String(3 * FAST.reportTtlMs + 1500), childOptions()]);
        await contender.next("started");
        busyBlock(3 * FAST.reportTtlMs);
        await heartbeat(); // rechecks ownership: must still be ours
        await heartbeat.delay(FAST.lockRecheckMs * 2);
        expect(heartbeat.signal.aborted).toBe(false);
        const done = await contender.next("done");
        expect(done.tries).toBeGreaterThan(5);
        expect(done.acquired).toBe(0);
        expect(prefix).toBe(h.ctx.prefix);
      });
    });

    it("G3: a SIGKILLed holder's lock is taken over within reportTtlMs plus the poll interval", async () => {
      const key = uniqueKey("g3-kill");
      const { url } = h.ctx.childArgs();
      const holder = child("holder.mjs", [url, key, childOptions()]);
      const acquired = await holder.next("acquired");
      const contender = h.locker();
      expect((await contender.acquire(key)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const killedAt = performance.now();
      holder.kill("SIGKILL");
      const pollMs = 50;
      const { at, lockData } = await acquireWhenFree(contender, key, pollMs);
      const takeoverMs = at - killedAt;
      expect(takeoverMs).toBeLessThanOrEqual(FAST.reportTtlMs + pollMs + 1000);
      expect(lockData.fencingToken).toBeGreaterThan((acquired.lockData as LockData).fencingToken);
    });

    it("G3: terminate() frees the process's locks to others within 500 ms", async () => {
      const key = uniqueKey("g3-terminate");
      const owner = h.locker({ reportTtlMs: 10_000, reportWriteMs: 2_000 });
      let markHeld!: () => void;
      const inside = new Promise<void>((resolve) => (markHeld = resolve));
      const held = owner
        .acquireAndRun(key, (heartbeat) => {
          markHeld();
          return new Promise((resolve) => heartbeat.signal.addEventListener("abort", resolve));
        })
        .then(
          () => "returned",
          (error: unknown) => error,
        );
      await inside;
      const contender = h.locker();
      expect((await contender.acquire(key)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const t0 = performance.now();
      await owner.terminate();
      const { at } = await acquireWhenFree(contender, key, 10);
      expect(at - t0).toBeLessThanOrEqual(500);
      expect(isLockError(await held)).toBe(true);
    });

    it("G4: an owner whose lock was taken over gets LockError from heartbeat, and its signal aborts with it", async () => {
      const db = h.ctx.database();
      const owner = h.locker({ db });
      const thief = h.locker();
      const key = uniqueKey("g4-takeover");
      const lost: unknown[] = [];
      owner.errors.subscribe((e) => e.type === "lost_lock" && lost.push(e.error));
      let thiefLock: LockData | undefined;
      const run = owner.acquireAndRun(key, async (heartbeat) => {
        await h.ctx.admin("DEL", h.fullKey(db, key)); // e.g. an operator, or a lost write on failover
        const res = await thief.acquire(key);
        if (res.status !== LockStatus.SUCCESS) throw new Error("thief did not get the lock");
        thiefLock = res.lockData;
        await new Promise((r) => setTimeout(r, FAST.lockRecheckMs + 20));
        const error = await heartbeat().catch((e) => e);
        expect(isLockError(error)).toBe(true);
        expect(error.lockData.ownerHash).toBe(thiefLock.ownerHash);
        expect(error.message).toContain(thiefLock.ownerHash);
        expect(heartbeat.signal.aborted).toBe(true);
        expect(heartbeat.signal.reason).toBe(error);
        await expect(heartbeat()).rejects.toBe(error);
        return "finished anyway";
      });
      await expect(run).rejects.toSatisfy(isLockError);
      expect(lost).toHaveLength(1);
      // The thief's lock is untouched by the loser's release.
      expect((await thief.readLockData(key)) as LockData).toMatchObject({ ownerHash: thiefLock!.ownerHash });
    });

    it("G4: an owner cut off from Redis aborts no later than another process acquires, without heartbeating", async () => {
      const { db, proxy } = await h.ctx.partitionedDatabase();
      const { abortedAt, takenAt, outcome } = await partitionRace(h.locker({ db }), h.locker(), proxy, uniqueKey("g4-partition"));
      expect(abortedAt).toBeLessThanOrEqual(takenAt);
      expect(isLockError(outcome)).toBe(true);
    });

    it("G4: a SIGSTOPped owner learns on SIGCONT that it lost the lock", async () => {
      const key = uniqueKey("g4-sigstop");
      const { url } = h.ctx.childArgs();
      const holder = child("holder.mjs", [url, key, childOptions()]);
      await holder.next("acquired");
      holder.kill("SIGSTOP");
      const contender = h.locker();
      try {
        await acquireWhenFree(contender, key, 50);
      } finally {
        holder.kill("SIGCONT");
      }
      const aborted = await holder.next("aborted", 10_000);
      expect(aborted.reason).toBe("LockError");
      const lost = await holder.next("lost", 10_000);
      expect(lost.name).toBe("LockError");
      expect(await holder.exited).toBe(0);
    });

    it("G5: fencing tokens strictly increase, across takeovers and after FLUSHALL", async () => {
      const locker = h.locker();
      const key = uniqueKey("g5");
      const tokens: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await locker.acquireAndRun(key, async (heartbeat) => heartbeat.lockData.fencingToken);
        tokens.push(res.result!);
      }
      const dying = h.locker();
      const held = await dying.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      tokens.push(held.lockData.fencingToken);
      await dying.terminate();
      const taken = await locker.acquire(key); // takeover of a dead holder
      if (taken.status !== LockStatus.SUCCESS) throw new Error("not taken over");
      tokens.push(taken.lockData.fencingToken);
      await h.ctx.admin("FLUSHALL");
      const fresh = h.locker();
      const after = await fresh.acquire(key);
      if (after.status !== LockStatus.SUCCESS) throw new Error("not acquired after FLUSHALL");
      tokens.push(after.lockData.fencingToken);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
      expect(tokens.every(Number.isSafeInteger)).toBe(true);
    });

    it("G6: no key is ever left without a TTL", async () => {
      const locker = h.locker();
      const key = uniqueKey("g6");
      const held = await locker.acquire(key);
      await locker.acquireAndRun(uniqueKey("g6-run"), async (heartbeat) => {
        await heartbeat.delay(FAST.lockRecheckMs * 3);
      });
      if (held.status === LockStatus.SUCCESS) await held.extend();
      const keys = (await h.ctx.admin("KEYS", `${h.ctx.prefix}*`)) as string[];
      expect(keys.length).toBeGreaterThanOrEqual(2); // a lock and a liveness record at least
      for (const k of keys) {
        const ttl = Number(await h.ctx.admin("PTTL", k));
        expect(ttl, `PTTL of ${k}`).toBeGreaterThan(0);
      }
    });
  });
}
