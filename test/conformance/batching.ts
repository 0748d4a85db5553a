import { describe, expect, it } from "vitest";
import { LockStatus, RedisDatabase, isRedisCommandError, type Transport } from "pulselock";
import { ACQUIRE } from "../../src/scripts/acquire";
import { uniqueKey } from "../support/wait-for";
import type { Harness } from "./harness";

/** A transport that counts script calls (EVALSHA; an EVAL only follows a NOSCRIPT) and passes them on. */
function counting(inner: Transport): Transport & { calls: number } {
  const t = {
    ...inner,
    calls: 0,
    evalsha: (sha: string, keys: string[], args: string[]) => (t.calls++, inner.evalsha(sha, keys, args)),
  };
  return t as Transport & { calls: number };
}

/** A transport whose ACQUIRE calls go through `through` (which may call Redis more than once, or garble the reply). */
function acquireThrough(inner: Transport, through: (call: () => Promise<unknown>) => Promise<unknown>): Transport {
  return {
    ...inner,
    evalsha: (sha, keys, args) => (sha === ACQUIRE.sha ? through(() => inner.evalsha(sha, keys, args)) : inner.evalsha(sha, keys, args)),
    eval: (source, keys, args) => (source === ACQUIRE.source ? through(() => inner.eval(source, keys, args)) : inner.eval(source, keys, args)),
  };
}

/**
 * Concurrent acquisitions and releases of one Locker share script calls
 * (src/batcher.ts). Batching must never change what each caller gets, and one
 * bad key must not fail the others in its batch.
 */
export function batchingSuite(h: Harness): void {
  describe("batching", () => {
    it("64 concurrent acquires and releases: each gets its own answer, in fewer script calls than locks (one each on a cluster)", async () => {
      const plain = h.ctx.database();
      const transport = counting(plain.transport);
      const locker = h.locker({ db: new RedisDatabase(transport, { prefix: plain.prefix }) });
      const keys = Array.from({ length: 64 }, (_, i) => uniqueKey(`batch-${i}`));
      await locker.acquireAndRun(uniqueKey("batch-warm"), () => {}); // liveness is up: only lock calls are counted below
      const held = await h.locker().acquire(keys[0]!);
      transport.calls = 0;
      const results = await Promise.all(keys.map((k) => locker.acquire(k, `t-${k}`)));
      const acquireCalls = transport.calls;
      expect(results[0]!.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      expect(results[0]!.lockData.ownerHash).toBe(held.lockData.ownerHash);
      for (const [i, r] of results.entries()) {
        if (i === 0) continue;
        expect(r.status).toBe(LockStatus.SUCCESS);
        expect(r.lockData.ownerHash.startsWith(`${keys[i]}@`)).toBe(true);
        expect(r.lockData.trace).toBe(`t-${keys[i]}`);
      }
      transport.calls = 0;
      const released = await Promise.all(results.slice(1).map((r, i) => locker.release(keys[i + 1]!, r.lockData)));
      expect(released.every((r) => r.status === LockStatus.SUCCESS)).toBe(true);
      const releaseCalls = transport.calls;
      if (h.ctx.shards > 1) {
        // Keys of several slots cannot share a script: a cluster sends each lock alone.
        expect(acquireCalls).toBeGreaterThanOrEqual(64 + 1); // + the liveness read of the holder of keys[0]
        expect(releaseCalls).toBe(63);
      } else {
        expect(acquireCalls).toBeLessThan(32);
        expect(releaseCalls).toBeLessThan(32);
      }
      for (const k of keys.slice(1)) expect(await h.ctx.admin("EXISTS", `${h.ctx.prefix}pl:{${k}}`)).toBe(0);
    });

    it("a key of another type fails only its own call; the rest of the batch is taken and released as if alone", async () => {
      const locker = h.locker();
      const keys = Array.from({ length: 12 }, (_, i) => uniqueKey(`batch-bad-${i}`));
      const bad = keys[5]!;
      await h.ctx.admin("HSET", `${h.ctx.prefix}pl:{${bad}}`, "f", "v");
      const results = await Promise.allSettled(keys.map((k) => locker.acquire(k)));
      const failed = results[5]!;
      expect(failed.status).toBe("rejected");
      if (failed.status === "rejected") {
        expect(isRedisCommandError(failed.reason)).toBe(true);
        expect(failed.reason.code).toBe("WRONGTYPE");
      }
      expect(await h.ctx.admin("TYPE", `${h.ctx.prefix}pl:{${bad}}`)).toBe("hash");
      for (const [i, r] of results.entries()) {
        if (i === 5) continue;
        expect(r.status).toBe("fulfilled");
        if (r.status !== "fulfilled" || r.value.status !== LockStatus.SUCCESS) throw new Error(`not acquired: ${keys[i]}`);
        expect((await locker.release(keys[i]!, r.value.lockData)).status).toBe(LockStatus.SUCCESS);
      }
      await h.ctx.admin("DEL", `${h.ctx.prefix}pl:{${bad}}`);
    });

    it("an acquire that Redis runs twice (a client resending it after a reconnect) is still its caller's, and releases", async () => {
      const plain = h.ctx.database();
      const twice = acquireThrough(plain.transport, async (call) => (await call(), call()));
      const locker = h.locker({ db: new RedisDatabase(twice, { prefix: plain.prefix }) });
      const key = uniqueKey("resent");
      const res = await locker.acquireAndRun(key, () => "ran");
      expect(res).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
      expect(await h.ctx.admin("EXISTS", h.fullKey(plain, key))).toBe(0);
      expect((await h.locker().acquire(key)).status).toBe(LockStatus.SUCCESS); // nothing was left held
    });

    it("a reply of the wrong shape to a lock that was taken rejects with BAD_RESPONSE and leaves the lock free", async () => {
      const plain = h.ctx.database();
      const garbled = acquireThrough(plain.transport, async (call) => {
        const reply = await call();
        // Each lock's entry follows the batch's time (scripts/acquire.ts); 1 means taken.
        return Array.isArray(reply) ? reply.map((r: unknown, i) => (i > 0 && r === 1 ? { not: "an answer" } : r)) : reply;
      });
      const locker = h.locker({ db: new RedisDatabase(garbled, { prefix: plain.prefix }) });
      const key = uniqueKey("garbled");
      const error = await locker.acquire(key).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRedisCommandError(error) && error.code).toBe("BAD_RESPONSE");
      expect(await h.ctx.admin("EXISTS", h.fullKey(plain, key))).toBe(0);
    });
  });
}
