import { describe, expect, it } from "vitest";
import { Heartbeater, LockStatus, OwnerHashStatus, isDrainingSignal, isLockError, isMutexError, type Heartbeat } from "pulselock";
import { uniqueKey, waitFor } from "../support/wait-for";
import type { Harness } from "./harness";

/** The public API of DESIGN §2, against a real Redis. */
export function apiSuite(h: Harness): void {
  describe("API", () => {
    it("acquire, extend and release a lock; the result is AsyncDisposable", async () => {
      const locker = h.locker();
      const key = uniqueKey("api-acquire");
      const res = await locker.acquire(key, "my-trace");
      expect(res.status).toBe(LockStatus.SUCCESS);
      if (res.status !== LockStatus.SUCCESS) return;
      expect(res.lockData.ownerHash.startsWith(`${key}@`)).toBe(true);
      expect(res.lockData.ownerHash.endsWith("#my-trace")).toBe(true);
      expect(res.lockData.trace).toBe("my-trace");
      expect(res.lockData.processHash).toMatch(/^[0-9a-f]{32}$/);
      expect(Number.isSafeInteger(res.lockData.fencingToken)).toBe(true);
      expect(Date.parse(res.lockData.acquiredAt)).toBeGreaterThan(0);

      const other = await h.locker().acquire(key);
      expect(other.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      expect(other.lockData.ownerHash).toBe(res.lockData.ownerHash);

      const ext = await res.extend();
      expect(ext.status).toBe(LockStatus.SUCCESS);
      expect(ext.lockData!.fencingToken).toBe(res.lockData.fencingToken);
      expect(Date.parse(ext.lockData!.extendedAt)).toBeGreaterThanOrEqual(Date.parse(res.lockData.extendedAt));

      expect(await locker.release(key, res.lockData)).toEqual({ status: LockStatus.SUCCESS, lockData: null });
      expect(await locker.release(key, res.lockData)).toEqual({ status: LockStatus.NO_KEY, lockData: null });
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");

      {
        await using held = await locker.acquire(key);
        expect(held.status).toBe(LockStatus.SUCCESS);
        expect((await h.locker().acquire(key)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      }
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");
    });

    it("release by a non-owner reports who holds the lock and leaves it alone", async () => {
      const a = h.locker();
      const key = uniqueKey("api-release-other");
      const first = await a.acquire(key);
      if (first.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      await a.release(key, first.lockData);
      const second = await a.acquire(key);
      if (second.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const res = await a.release(key, first.lockData);
      expect(res.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      expect(res.lockData?.ownerHash).toBe(second.lockData.ownerHash);
      expect((await a.readLockData(key)) as object).toMatchObject({ ownerHash: second.lockData.ownerHash });
    });

    it("acquireAndRun runs the seed example shape and releases afterwards", async () => {
      const locker = h.locker();
      const key = uniqueKey("api-run");
      let steps = 0;
      let seenOwner = "";
      const res = await locker.acquireAndRun(key, async (heartbeat, ownerHash) => {
        seenOwner = ownerHash;
        while (steps < 5) {
          steps++;
          await heartbeat();
        }
        await heartbeat.heartbeat();
        expect(heartbeat.lockData.ownerHash).toBe(ownerHash);
        expect(heartbeat.signal.aborted).toBe(false);
        return "done";
      });
      expect(res).toEqual({ status: LockStatus.SUCCESS, result: "done" });
      expect(seenOwner.startsWith(`${key}@`)).toBe(true);
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");
    });

    it("acquireAndRun returns SOMEONE_ELSE_HOLDS_LOCK without running, and releases when the job throws", async () => {
      const a = h.locker();
      const b = h.locker();
      const key = uniqueKey("api-run-busy");
      let ran = false;
      await a.acquireAndRun(key, async () => {
        const res = await b.acquireAndRun(key, async () => (ran = true));
        expect(res.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
        expect(res.lockData?.ownerHash).toMatch(new RegExp(`^${key}@`));
      });
      expect(ran).toBe(false);
      await expect(
        a.acquireAndRun(key, async () => {
          throw new Error("job failed");
        }),
      ).rejects.toThrow("job failed");
      expect(await a.readLockData(key)).toBe("maybe_unlocked");
      expect((await b.acquireAndRun(key, async () => 7)).result).toBe(7);
    });

    it("heartbeat.delay() sleeps while extending, and heartbeats coalesce", async () => {
      const locker = h.locker({ lockExtendMs: 150, lockTtlMs: 600, lockRecheckMs: 50 });
      const key = uniqueKey("api-delay");
      await locker.acquireAndRun(key, async (heartbeat: Heartbeat) => {
        const first = heartbeat.lockData.extendedAt;
        const t0 = performance.now();
        await heartbeat.delay(700); // longer than lockTtlMs: only extensions keep the lock
        expect(performance.now() - t0).toBeGreaterThanOrEqual(690);
        expect(Date.parse(heartbeat.lockData.extendedAt)).toBeGreaterThan(Date.parse(first));
        await Promise.all(Array.from({ length: 50 }, () => heartbeat()));
        expect(heartbeat.signal.aborted).toBe(false);
      });
    });

    it("readOwnerHashStatus reports every status", async () => {
      const locker = h.locker();
      const key = uniqueKey("api-owner-status");
      expect(await locker.readOwnerHashStatus("garbage")).toEqual({
        status: OwnerHashStatus.MALFORMED_OWNER_HASH,
        lockData: null,
        key: null,
      });
      const res = await locker.acquire(key);
      if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const running = await locker.readOwnerHashStatus(res.lockData.ownerHash);
      expect(running).toMatchObject({ status: OwnerHashStatus.RUNNING, key });
      const fake = res.lockData.ownerHash.replace(/\.(\d+)$/, ".999999");
      expect((await locker.readOwnerHashStatus(fake)).status).toBe(OwnerHashStatus.SOMEONE_ELSE_HOLDS_LOCK);
      await locker.release(key, res.lockData);
      expect(await locker.readOwnerHashStatus(res.lockData.ownerHash)).toEqual({
        status: OwnerHashStatus.NO_KEY,
        lockData: null,
        key,
      });

      const dying = h.locker();
      const held = await dying.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      await dying.terminate(); // deletes its liveness record: the lock is held by no running process
      expect((await locker.readOwnerHashStatus(held.lockData.ownerHash)).status).toBe(OwnerHashStatus.NO_RUNNING_PROCESS);
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");
    });

    it("a second terminate() while the first runs waits for it: its liveness record is gone once either resolves", async () => {
      // Two shutdown handlers, each `await locker.terminate(); await client.quit()` (found by an attack pass: the
      // second resolved at once, and its quit cut the first one's work short).
      const dying = h.locker();
      const held = await dying.acquire(uniqueKey("twice"));
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const first = dying.terminate();
      await dying.terminate();
      expect((await h.locker().readOwnerHashStatus(held.lockData.ownerHash)).status).toBe(OwnerHashStatus.NO_RUNNING_PROCESS);
      await first;
    });

    it("keys may hold any characters", async () => {
      const locker = h.locker();
      for (const name of ["{", "}", "{}", "a}b{c", "with space", "new\nline", "ключ-🔒", "%7B", "x@y.1#z", "{tag}rest"]) {
        const res = await locker.acquire(name + uniqueKey(""));
        expect(res.status).toBe(LockStatus.SUCCESS);
        if (res.status !== LockStatus.SUCCESS) continue;
        const status = await locker.readOwnerHashStatus(res.lockData.ownerHash);
        expect(status.status).toBe(OwnerHashStatus.RUNNING);
        expect((await locker.release(status.key!, res.lockData)).status).toBe(LockStatus.SUCCESS);
      }
      // Names that differ only by escaping stay different locks.
      const base = uniqueKey("esc");
      const one = await locker.acquire(`${base}}`);
      const two = await locker.acquire(`${base}%7D`);
      expect([one.status, two.status]).toEqual([LockStatus.SUCCESS, LockStatus.SUCCESS]);
    });

    it("errors.subscribe returns a working unsubscribe", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const seen: unknown[] = [];
      const unsubscribe = locker.errors.subscribe((e) => seen.push(e));
      expect(typeof unsubscribe).toBe("function");
      unsubscribe();
      const key = uniqueKey("api-errors");
      await locker
        .acquireAndRun(key, async (heartbeat) => {
          await h.ctx.admin("DEL", h.fullKey(db, key));
          await new Promise((r) => setTimeout(r, 120));
          await expect(heartbeat()).rejects.toSatisfy(isLockError);
        })
        .catch(() => {});
      expect(seen).toEqual([]);
    });

    it("setDraining makes heartbeats throw DrainingSignal and aborts signals", async () => {
      const locker = h.locker();
      const key = uniqueKey("api-drain");
      try {
        const res = locker.acquireAndRun(key, async (heartbeat) => {
          Heartbeater.setDraining("deploy");
          expect(heartbeat.signal.aborted).toBe(true);
          expect(isDrainingSignal(heartbeat.signal.reason)).toBe(true);
          await heartbeat();
        });
        await expect(res).rejects.toSatisfy(isDrainingSignal);
        await expect(res).rejects.toThrow("deploy");
      } finally {
        Heartbeater.setDraining(null);
      }
      expect(await locker.readLockData(key)).toBe("maybe_unlocked");
    });

    it("a signal first read after the lock was lost is already aborted with the LockError", async () => {
      const locker = h.locker();
      const key = uniqueKey("api-late-signal");
      const res = locker.acquireAndRun(key, async (heartbeat) => {
        await locker.terminate(); // the run loses its lock before anyone looked at its signal
        expect(heartbeat.signal.aborted).toBe(true);
        expect(isLockError(heartbeat.signal.reason)).toBe(true);
        expect(heartbeat.signal).toBe(heartbeat.signal);
      });
      await expect(res).rejects.toSatisfy(isLockError);
    });

    it("mutex waits for the holder, runs, and throws MutexError on timeout", async () => {
      const a = h.locker();
      const b = h.locker();
      const key = uniqueKey("api-mutex");
      const holder = await a.acquire(key);
      if (holder.status !== LockStatus.SUCCESS) throw new Error("not acquired");

      const err = await b.mutex(key, 300, async () => "never").catch((e) => e);
      expect(isMutexError(err)).toBe(true);
      expect(err.lockData.ownerHash).toBe(holder.lockData.ownerHash);
      expect(err.message).toContain(holder.lockData.ownerHash);

      setTimeout(() => void a.release(key, holder.lockData), 200);
      const order: string[] = [];
      const result = await b.mutex(key, { timeoutMs: 10_000, trace: "waiter" }, async (heartbeat) => {
        order.push(heartbeat.lockData.trace!);
        return 42;
      });
      expect(result).toBe(42);
      expect(order).toEqual(["waiter"]);

      const again = await b.mutex(key, 1000, async () => "positional", 20, "t");
      expect(again).toBe("positional");
    });

    it("mutex stops waiting when its signal aborts", async () => {
      const a = h.locker();
      const key = uniqueKey("api-mutex-signal");
      const held = await a.acquire(key);
      expect(held.status).toBe(LockStatus.SUCCESS);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("user gave up")), 150);
      await expect(h.locker().mutex(key, { timeoutMs: 30_000, signal: controller.signal }, async () => 1)).rejects.toThrow("user gave up");
    });

    it("two owners in one process are two owners (G1), and concurrent acquires yield one winner", async () => {
      const locker = h.locker();
      const key = uniqueKey("api-same-process");
      const results = await Promise.all(Array.from({ length: 20 }, () => locker.acquire(key)));
      const winners = results.filter((r) => r.status === LockStatus.SUCCESS);
      expect(winners).toHaveLength(1);
      const others = await Promise.all([h.locker(), h.locker(), h.locker()].map((l) => l.acquire(key)));
      expect(others.every((r) => r.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK)).toBe(true);
      await waitFor("errors stay empty", () => h.errors.length === 0);
    });
  });
}
