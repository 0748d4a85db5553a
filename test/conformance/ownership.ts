import { describe, expect, it } from "vitest";
import { LockStatus, isCorruptRecordError, isLockError, isMutexError, isRunEndedError, type Heartbeat, type LockData } from "pulselock";
import { uniqueKey, waitFor } from "../support/wait-for";
import type { Harness } from "./harness";

/** Busy-blocks this thread, as a long synchronous step of a job does. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A record that a dead process (no liveness key) holds, with a token far ahead of Redis TIME. */
function deadRecord(token: number, ms: number): string {
  return `pl1|${token}|${ms}|${ms}|${"d".repeat(32)}|1|`;
}

/**
 * Who may free a lock, what a heartbeat is worth after its job, and how exact
 * a run's signal is (issue: "misuse and stopped processes must never make a
 * second owner"), against a real Redis on every transport.
 */
export function ownershipSuite(h: Harness): void {
  describe("ownership", () => {
    it("another Locker's release() with the holder's own lockData (from a refusal, readLockData, MutexError) frees nothing", async () => {
      const holder = h.locker();
      const other = h.locker();
      const key = uniqueKey("own-foreign");
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let heartbeat!: Heartbeat;
      const running = holder.acquireAndRun(key, async (hb) => {
        heartbeat = hb;
        await gate;
        await hb();
        return hb.signal.aborted;
      });
      await waitFor("the holder to run", () => heartbeat);

      const refusal = await other.acquire(key);
      expect(refusal.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const read = await other.readLockData(key);
      expect(read).not.toBe("maybe_unlocked");
      const timedOut = await other.mutex(key, 50, () => "ran").catch((e: unknown) => e);
      expect(isMutexError(timedOut)).toBe(true);
      const fromMutex = (timedOut as { lockData: LockData }).lockData;

      for (const lockData of [refusal.lockData, read as LockData, fromMutex, heartbeat.lockData]) {
        const res = await other.release(key, lockData);
        expect(res.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
        expect(res.lockData?.ownerHash).toBe(heartbeat.lockData.ownerHash);
      }
      // Still held: a third Locker is refused, and the holder's run ends as a success, never lost.
      expect((await h.locker().acquire(key)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      release();
      expect(await running).toEqual({ status: LockStatus.SUCCESS, result: false });
      expect(h.errors.filter((e) => e.type === "lost_lock")).toEqual([]);
    });

    it("release() with another key's lockData or a made-up owner answers SOMEONE_ELSE_HOLDS_LOCK and deletes nothing", async () => {
      const locker = h.locker();
      const a = uniqueKey("own-a");
      const b = uniqueKey("own-b");
      const free = uniqueKey("own-free");
      const heldA = await locker.acquire(a);
      const heldB = await locker.acquire(b);
      if (heldA.status !== LockStatus.SUCCESS || heldB.status !== LockStatus.SUCCESS) throw new Error("not acquired");

      const crossed = await locker.release(a, heldB.lockData);
      expect(crossed).toEqual({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: heldA.lockData });
      // The original's own test: a well-formed lockData whose ownerHash is any string.
      const madeUp = await locker.release(a, { ...heldA.lockData, ownerHash: "some" });
      expect(madeUp.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      expect(madeUp.lockData?.ownerHash).toBe(heldA.lockData.ownerHash);
      // A free key: still not this Locker's to release; the lockData given comes back.
      const onFree = await locker.release(free, heldA.lockData);
      expect(onFree).toEqual({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: heldA.lockData });

      expect(await locker.readLockData(a)).toMatchObject({ ownerHash: heldA.lockData.ownerHash });
      expect(await locker.readLockData(b)).toMatchObject({ ownerHash: heldB.lockData.ownerHash });
      expect(await locker.release(a, heldA.lockData)).toEqual({ status: LockStatus.SUCCESS, lockData: null });
      expect(await locker.release(b, heldB.lockData)).toEqual({ status: LockStatus.SUCCESS, lockData: null });
    });

    it("releasing one lock several times at once frees it once: one SUCCESS, and NO_KEY for the others, as one after the other", async () => {
      // Found by an attack pass: the calls shared one release batch, whose script reads every key before it deletes.
      const locker = h.locker();
      const key = uniqueKey("own-twice");
      const held = await locker.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const answers = await Promise.all([1, 2, 3].map(() => locker.release(key, held.lockData)));
      expect(answers.map((a) => a.status)).toEqual([LockStatus.SUCCESS, LockStatus.NO_KEY, LockStatus.NO_KEY]);
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");
    });

    it("releasing a lock that one of the Locker's own runs holds is refused, and the run keeps it", async () => {
      const locker = h.locker();
      const key = uniqueKey("own-inside");
      const res = await locker.acquireAndRun(key, async (hb, ownerHash) => {
        const refused = await locker.release(key, hb.lockData).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(TypeError);
        expect(String((refused as Error).message)).toMatch(/refused.*acquireAndRun\(\)/);
        expect(String((refused as Error).message)).toContain(ownerHash);
        expect((await h.locker().acquire(key)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
        await hb();
        return hb.signal.aborted;
      });
      expect(res).toEqual({ status: LockStatus.SUCCESS, result: false });
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");
    });

    it("a signal first read after its job returned is born aborted, saying the run ended", async () => {
      let kept!: Heartbeat;
      expect((await h.locker().acquireAndRun(uniqueKey("own-late-signal"), (hb) => void (kept = hb))).status).toBe(LockStatus.SUCCESS);
      expect(kept.signal.aborted).toBe(true);
      expect(isRunEndedError(kept.signal.reason)).toBe(true);
    });

    it("a heartbeat kept past its job throws, and its signal aborts saying the run ended", async () => {
      const locker = h.locker();
      const key = uniqueKey("own-after");
      let kept!: Heartbeat;
      const res = await locker.acquireAndRun(key, (hb) => {
        kept = hb;
        return kept.signal.aborted;
      });
      expect(res).toEqual({ status: LockStatus.SUCCESS, result: false });
      expect(kept.signal.aborted).toBe(true);
      // Not a lost lock: the run ended normally, and the reason says so.
      expect(isRunEndedError(kept.signal.reason)).toBe(true);
      expect(isLockError(kept.signal.reason)).toBe(false);
      expect(String((kept.signal.reason as Error).message)).toMatch(/already returned/);
      for (const call of [() => kept(), () => kept.heartbeat(), () => kept.delay(10)]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isRunEndedError(error)).toBe(true);
        expect(String((error as Error).message)).toMatch(/already returned/);
      }
      // Even after another owner took the key, the kept heartbeat keeps saying so instead of resolving.
      const next = await h.locker().acquire(key);
      expect(next.status).toBe(LockStatus.SUCCESS);
      await expect(kept()).rejects.toThrow(/already returned/);
      expect(h.errors.filter((e) => e.type === "lost_lock")).toEqual([]);
    });

    it("after a freeze past the deadline, a job's own timer reads signal.aborted as true before the library's timer fires", async () => {
      // Without extensions the lock-TTL deadline comes first (~550 ms); the job's timer is due long before it.
      const locker = h.locker({ lockTtlMs: 600, lockExtendMs: 150 });
      const key = uniqueKey("own-exact");
      const seen: { aborted: boolean; threw: boolean; reasonIsLockError: boolean }[] = [];
      const run = locker.acquireAndRun(key, async (hb) => {
        const timer = new Promise<void>((resolve) =>
          setTimeout(() => {
            let threw = false;
            try {
              hb.signal.throwIfAborted();
            } catch {
              threw = true;
            }
            seen.push({ aborted: hb.signal.aborted, threw, reasonIsLockError: isLockError(hb.signal.reason) });
            resolve();
          }, 20),
        );
        block(900); // a freeze (SIGSTOP, a blocked loop) past the self-fencing deadline
        // Still inside the same synchronous step: no timer could have run, yet the signal knows.
        seen.push({ aborted: hb.signal.aborted, threw: false, reasonIsLockError: isLockError(hb.signal.reason) });
        await timer;
      });
      await expect(run).rejects.toSatisfy(isLockError);
      expect(seen).toEqual([
        { aborted: true, threw: false, reasonIsLockError: true },
        { aborted: true, threw: true, reasonIsLockError: true },
      ]);
    });

    it("fencing tokens grow across a release whose token is ahead of Redis TIME (the release leaves a tombstone)", async () => {
      const admin = h.locker();
      const key = uniqueKey("own-tomb");
      const db = h.ctx.database();
      const fullKey = h.fullKey(db, key);
      // A dead holder's record whose token is far ahead of TIME, as tokens pushed up by takeovers would be.
      const ahead = (Date.now() + 3_000) * 1000;
      await h.ctx.admin("SET", fullKey, deadRecord(ahead, Date.now()), "PX", "60000");
      const first = await admin.acquire(key);
      if (first.status !== LockStatus.SUCCESS) throw new Error("dead holder not taken over");
      expect(first.lockData.fencingToken).toBe(ahead + 1);
      expect(await admin.release(key, first.lockData)).toEqual({ status: LockStatus.SUCCESS, lockData: null });
      // What is left reads as no lock to every reader.
      expect(await admin.readLockData(key)).toBe("maybe_unlocked");
      expect((await admin.readOwnerHashStatus(first.lockData.ownerHash)).status).toBe("NO_KEY");
      const second = await admin.acquire(key);
      if (second.status !== LockStatus.SUCCESS) throw new Error("the tombstone was taken for a lock");
      expect(second.lockData.fencingToken).toBeGreaterThan(first.lockData.fencingToken);
      expect(await admin.release(key, second.lockData)).toEqual({ status: LockStatus.SUCCESS, lockData: null });
      // The tombstone is short-lived: nothing stays in Redis for this lock name.
      await waitFor("the tombstone to expire", async () => (await h.ctx.admin("EXISTS", fullKey)) === 0);
    });

    it("a value that only looks like a tombstone is a foreign record: it fails its own acquire, not the batch", async () => {
      const locker = h.locker();
      const key = uniqueKey("own-fake-tomb");
      const fine = uniqueKey("own-fine");
      await h.ctx.admin("SET", h.fullKey(h.ctx.database(), key), "pl1t|garbage", "PX", "60000");
      const [bad, good] = await Promise.allSettled([locker.acquire(key), locker.acquire(fine)]);
      expect(bad.status === "rejected" && isCorruptRecordError(bad.reason)).toBe(true);
      expect(good.status === "fulfilled" && good.value.status).toBe(LockStatus.SUCCESS);
      await expect(locker.readLockData(key)).rejects.toSatisfy(isCorruptRecordError);
      expect(await h.ctx.admin("GET", h.fullKey(h.ctx.database(), key))).toBe("pl1t|garbage");
    });
  });
}
