import { describe, expect, it } from "vitest";
import { LockStatus, OwnerHashStatus, isCorruptRecordError, isLockError, isRedisCommandError, type LockData, type RedisDatabase } from "pulselock";
import { uniqueKey, waitFor } from "../support/wait-for";
import { FAST, type Harness } from "./harness";

/** Bad input and a Redis that misbehaves: each gives a clear, typed error and loses nothing. */
export function faultsSuite(h: Harness): void {
  describe("bad input and faults", () => {
    it("rejects empty and non-string keys with a TypeError, before any Redis call", async () => {
      const locker = h.locker();
      const noop = async () => {};
      for (const bad of ["", undefined, null, 42, {}, Symbol("k")] as unknown[]) {
        await expect(locker.acquire(bad as string)).rejects.toThrow(TypeError);
        await expect(locker.acquireAndRun(bad as string, noop)).rejects.toThrow(TypeError);
        await expect(locker.mutex(bad as string, 10, noop)).rejects.toThrow(TypeError);
        await expect(locker.readLockData(bad as string)).rejects.toThrow(TypeError);
      }
      await expect(locker.acquire("")).rejects.toThrow(/non-empty string/);
      await expect(locker.acquireAndRun("k", "not a function" as never)).rejects.toThrow(TypeError);
      await expect(locker.release("k", { ownerHash: 42 } as unknown as LockData)).rejects.toThrow(TypeError);
      // A well-formed lockData that is not this Locker's is no TypeError (as in @clickup/distributed-locker): it frees nothing.
      expect((await locker.release("k", { ownerHash: "nonsense" } as LockData)).status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
      await expect(locker.mutex("k", -1, noop)).rejects.toThrow(TypeError);
      await expect(locker.mutex("k", Number.NaN, noop)).rejects.toThrow(TypeError);
    });

    it("a lock record overwritten with garbage gives CorruptRecordError and is neither taken nor deleted", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const key = uniqueKey("garbage");
      await h.ctx.admin("SET", h.fullKey(db, key), "not a pulselock record", "PX", "60000");
      const err = await locker.acquire(key).catch((e) => e);
      expect(isCorruptRecordError(err)).toBe(true);
      expect(err.message).toContain("not a pulselock record");
      await expect(locker.readLockData(key)).rejects.toSatisfy(isCorruptRecordError);
      await expect(locker.acquireAndRun(key, async () => 1)).rejects.toSatisfy(isCorruptRecordError);
      expect(await h.ctx.admin("GET", h.fullKey(db, key))).toBe("not a pulselock record");
    });

    it("garbage written over a held lock makes the owner lose it (LockError), and the garbage stays", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const key = uniqueKey("garbage-during-run");
      const run = locker.acquireAndRun(key, async (heartbeat) => {
        await h.ctx.admin("SET", h.fullKey(db, key), "{oops}", "PX", "60000");
        for (;;) await heartbeat.delay(20);
      });
      const err = await run.catch((e) => e);
      expect(isLockError(err)).toBe(true);
      expect(err.message).toMatch(/overwritten/);
      expect(await h.ctx.admin("GET", h.fullKey(db, key))).toBe("{oops}");
    });

    it("WRONGTYPE becomes a RedisCommandError that says so, and no lock is taken", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const key = uniqueKey("wrongtype");
      await h.ctx.admin("HSET", h.fullKey(db, key), "field", "value");
      await h.ctx.admin("PEXPIRE", h.fullKey(db, key), "60000");
      const err = await locker.acquire(key).catch((e) => e);
      expect(isRedisCommandError(err)).toBe(true);
      expect(err.code).toBe("WRONGTYPE");
      expect(err.transient).toBe(false);
      expect(err.message).toContain("WRONGTYPE");
      expect(await h.ctx.admin("TYPE", h.fullKey(db, key))).toBe("hash");
    });

    it("a lock key overwritten with another type fails its own release with WRONGTYPE, while its batch's other releases succeed", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const [bad, good] = [uniqueKey("wrongtype-release"), uniqueKey("wrongtype-neighbour")];
      const [a, b] = [await locker.acquire(bad), await locker.acquire(good)];
      if (a.status !== LockStatus.SUCCESS || b.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      await h.ctx.admin("DEL", h.fullKey(db, bad));
      await h.ctx.admin("HSET", h.fullKey(db, bad), "field", "value");
      // Released in one turn: on a single Redis both travel in one script call.
      const [refused, released] = await Promise.all([locker.release(bad, a.lockData).catch((e: unknown) => e), locker.release(good, b.lockData)]);
      expect(isRedisCommandError(refused)).toBe(true);
      expect((refused as { code?: string }).code).toBe("WRONGTYPE");
      expect(released.status).toBe(LockStatus.SUCCESS);
      expect(await h.ctx.admin("TYPE", h.fullKey(db, bad))).toBe("hash");
      expect(await h.ctx.admin("EXISTS", h.fullKey(db, good))).toBe(0);
    });

    it("NOSCRIPT after SCRIPT FLUSH falls back to EVAL, in the main thread and the liveness thread", async () => {
      const locker = h.locker();
      const key = uniqueKey("noscript");
      await locker.acquireAndRun(key, async (heartbeat) => {
        await h.ctx.admin("SCRIPT", "FLUSH");
        await heartbeat.delay(FAST.reportWriteMs * 3); // liveness rewrites and rechecks run after the flush
        expect(heartbeat.signal.aborted).toBe(false);
      });
      await h.ctx.admin("SCRIPT", "FLUSH");
      const res = await locker.acquire(key);
      expect(res.status).toBe(LockStatus.SUCCESS);
      expect(h.errors.filter((e) => e.type !== "locker")).toEqual([]);
    });

    it("a Redis restart that loses all data mid-run: the owner loses the lock cleanly, and locking works again", async () => {
      const locker = h.locker();
      const key = uniqueKey("restart");
      let token = 0;
      const run = locker.acquireAndRun(key, async (heartbeat) => {
        token = heartbeat.lockData.fencingToken;
        await h.ctx.server.restart();
        for (;;) await heartbeat.delay(20);
      });
      const err = await run.catch((e) => e);
      expect(isLockError(err)).toBe(true);
      const again = await waitFor("locking works after the restart", async () => {
        const res = await locker.acquire(key).catch(() => undefined);
        return res?.status === LockStatus.SUCCESS ? res : undefined;
      });
      expect(again.lockData.fencingToken).toBeGreaterThan(token);
      expect(again.lockData.processHash).not.toBe((err.ownerHash as string).split("@").pop()!.split(".")[0]); // the lapsed identity is never reused
    });

    it("terminate() while an acquire is in flight: the job never runs and nothing stays held", async () => {
      const owner = h.locker();
      const key = uniqueKey("terminate-race");
      let ran = false;
      const run = owner
        .acquireAndRun(key, async () => (ran = true))
        .then(
          () => "resolved",
          (e) => e,
        );
      await owner.terminate();
      const outcome = await run;
      expect(ran).toBe(false);
      expect(outcome).toMatchObject({ name: "LockerTerminatedError" });
      expect((await h.locker().acquire(key)).status).toBe(LockStatus.SUCCESS);
    });

    it("a job that blocks its thread past the lock TTL ends with LockError, not SUCCESS", async () => {
      const locker = h.locker({ lockTtlMs: 1500, lockExtendMs: 500 });
      const key = uniqueKey("blocked-past-ttl");
      const run = locker.acquireAndRun(key, async () => {
        const end = Date.now() + 2000;
        while (Date.now() < end) {
          // no heartbeat, no timers: the lock record expires meanwhile
        }
        return "finished";
      });
      const err = await run.catch((e) => e);
      expect(isLockError(err)).toBe(true);
    });

    it("a key that looks like an owner hash is still released and taken over correctly", async () => {
      const a = h.locker();
      const b = h.locker();
      const key = `job@0123456789abcdef0123456789abcdef.7#retry${uniqueKey("")}`;
      const res = await a.acquireAndRun(key, async (heartbeat) => {
        const status = await a.readOwnerHashStatus(heartbeat.lockData.ownerHash);
        expect(status.key).toBe(key);
        expect(status.status).toBe(OwnerHashStatus.RUNNING);
        return 1;
      });
      expect(res.status).toBe(LockStatus.SUCCESS);
      expect(await b.readLockData(key)).toBe("maybe_unlocked");
      const held = await a.acquire(key);
      expect(held.status).toBe(LockStatus.SUCCESS);
      await a.terminate();
      expect((await b.acquire(key)).status).toBe(LockStatus.SUCCESS); // takeover of a dead holder
    });

    it("release() of a key overwritten with garbage throws CorruptRecordError at once", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const key = uniqueKey("release-garbage");
      const res = await locker.acquire(key);
      if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      await h.ctx.admin("SET", h.fullKey(db, key), "job BUSY", "PX", "60000");
      const t0 = performance.now();
      await expect(locker.release(key, res.lockData)).rejects.toSatisfy(isCorruptRecordError);
      expect(performance.now() - t0).toBeLessThan(1_000);
    });

    it("a database that is not a RedisDatabase is rejected in the constructor", async () => {
      const { Locker } = await import("pulselock");
      expect(() => new Locker({ database: {} as RedisDatabase })).toThrow(TypeError);
      expect(() => new Locker({ database: { moduleName: "", exportName: "db" } })).toThrow(TypeError);
      expect(() => new Locker({ database: h.ctx.database(), reportWriteMs: 10_000, reportTtlMs: 10_000 })).toThrow(/reportWriteMs/);
    });
  });
}
