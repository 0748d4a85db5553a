import { describe, expect, it } from "vitest";
import { LockStatus, RedisDatabase, type Transport } from "pulselock";
import { subscriberConnections } from "../support/subscribers";
import { uniqueKey, waitFor } from "../support/wait-for";
import type { Harness } from "./harness";

/** mutex() waiting (DESIGN §5): pub/sub wake-ups where the transport has them, polling always. */
export function waitingSuite(h: Harness): void {
  describe("waiting", () => {
    it("a release wakes a waiting mutex() at once, long before its next poll", async () => {
      if (!h.ctx.supportsPubSub) return expect(h.ctx.supportsPubSub).toBe(false);
      const holder = h.locker();
      const waiter = h.locker();
      const key = uniqueKey("wake");
      const held = await holder.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const ran = waiter.mutex(key, { timeoutMs: 30_000, recheckDelayMs: 20_000 }, async () => performance.now());
      // The waiter's failed try flags the lock; it then sleeps for ≥ 10 s (half of recheckDelayMs, with jitter).
      await waitFor("the waiter flagged the lock", async () => Number(await h.ctx.admin("EXISTS", `${h.ctx.prefix}pl:{${key}}:w`)) === 1);
      const releasedAt = performance.now();
      await holder.release(key, held.lockData);
      const startedAt = await ran;
      expect(startedAt - releasedAt).toBeLessThan(5_000); // a poll would come ≥ 10 s later (half of recheckDelayMs at least)
    });

    it("only a release that a waiter flagged publishes: an uncontended one sends no PUBLISH", async () => {
      if (!h.ctx.supportsPubSub) return expect(h.ctx.supportsPubSub).toBe(false);
      // Tests in one file run one after another on this file's own server, so the counters are ours.
      const publishes = async () =>
        [...String(await h.ctx.admin("INFO", "commandstats")).matchAll(/cmdstat_s?publish:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      const key = uniqueKey("quiet");
      const locker = h.locker();
      await h.ctx.admin("CONFIG", "RESETSTAT");
      const held = await locker.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      expect((await locker.release(key, held.lockData)).status).toBe(LockStatus.SUCCESS);
      expect(await publishes()).toBe(0);
      const again = await locker.acquire(key);
      if (again.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const waited = h.locker().mutex(key, { timeoutMs: 30_000, recheckDelayMs: 20_000 }, async () => "handed off");
      await waitFor("the waiter flagged the lock", async () => Number(await h.ctx.admin("EXISTS", `${h.ctx.prefix}pl:{${key}}:w`)) === 1);
      await locker.release(key, again.lockData);
      expect(await waited).toBe("handed off");
      expect(await publishes()).toBe(1);
      // The release removed the flag with the lock: nothing is left behind.
      expect(Number(await h.ctx.admin("EXISTS", `${h.ctx.prefix}pl:{${key}}:w`))).toBe(0);
    });

    it("one subscriber connection per locker (per shard on a cluster), however many keys it waits on", async () => {
      if (!h.ctx.supportsPubSub) return expect(h.ctx.supportsPubSub).toBe(false);
      const holder = h.locker();
      const waiter = h.locker();
      const keys = [uniqueKey("sub-a"), uniqueKey("sub-b"), uniqueKey("sub-c")];
      const subscribers = () => subscriberConnections(h.ctx);
      const before = await subscribers();
      const held = await Promise.all(keys.map((k) => holder.acquire(k)));
      const waits = keys.map((k) => waiter.mutex(k, { timeoutMs: 30_000 }, async () => k));
      await waitFor("the waiter subscribed", async () => (await subscribers()) > before);
      await new Promise((r) => setTimeout(r, 200));
      const opened = (await subscribers()) - before;
      expect(opened).toBeGreaterThanOrEqual(1);
      expect(opened).toBeLessThanOrEqual(h.ctx.shards);
      for (const [i, k] of keys.entries()) {
        const res = held[i]!;
        if (res.status === LockStatus.SUCCESS) await holder.release(k, res.lockData);
      }
      expect(await Promise.all(waits)).toEqual(keys);
    });

    it("without pub/sub, mutex() still gets the lock by polling with backoff", async () => {
      const original = h.ctx.database();
      const { openSubscriber: _ignored, ...rest } = original.transport;
      const pollingOnly: Transport = { ...rest, kind: `${rest.kind}-polling` };
      const holder = h.locker();
      const waiter = h.locker({ db: new RedisDatabase(pollingOnly, { prefix: original.prefix }) });
      const key = uniqueKey("poll");
      const held = await holder.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      setTimeout(() => void holder.release(key, held.lockData), 300);
      const t0 = performance.now();
      expect(await waiter.mutex(key, { timeoutMs: 20_000, recheckDelayMs: 50 }, async () => "polled")).toBe("polled");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    });

    it("mutex() takes over a dead holder's lock", async () => {
      const dying = h.locker();
      const waiter = h.locker();
      const key = uniqueKey("mutex-dead");
      expect((await dying.acquire(key)).status).toBe(LockStatus.SUCCESS);
      await dying.terminate();
      expect(await waiter.mutex(key, 5_000, async () => "mine")).toBe("mine");
    });

    it("mutex() takes recheckDelay as a function whose promise is the pause (@clickup/distributed-locker's signature)", async () => {
      const holder = h.locker();
      const waiter = h.locker();
      const key = uniqueKey("pause-fn");
      const held = await holder.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      let pauses = 0;
      const pause = async (): Promise<unknown> => {
        if (++pauses === 3) await holder.release(key, held.lockData);
        return new Promise((resolve) => setTimeout(resolve, 10));
      };
      expect(await waiter.mutex(key, 20_000, async () => "ran", pause, "trace")).toBe("ran");
      expect(pauses).toBeGreaterThanOrEqual(3);
      // The timeout still counts while a pause is pending, and a pause that rejects ends the wait with its error.
      const again = await holder.acquire(key);
      if (again.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const slow = () => new Promise((resolve) => setTimeout(resolve, 60_000).unref?.());
      const timedOut = await waiter.mutex(key, 300, async () => "ran", slow).catch((e: unknown) => e);
      expect((timedOut as Error).name).toBe("MutexError");
      const failing = () => Promise.reject(new Error("pause failed"));
      await expect(waiter.mutex(key, 20_000, async () => "ran", failing)).rejects.toThrow("pause failed");
      // A timeout beyond a timer's range (Infinity: wait for ever) still waits for each pause, never spins.
      let slowPauses = 0;
      const paced = () => (slowPauses++, new Promise((resolve) => setTimeout(resolve, 200)));
      const forever = waiter.mutex(key, Infinity, async () => "ran", paced);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(slowPauses).toBeLessThanOrEqual(8);
      await holder.release(key, again.lockData);
      expect(await forever).toBe("ran");
    });
  });
}
