import calculateSlot from "cluster-key-slot";
import { afterEach, describe, expect, it } from "vitest";
import { Locker, LockStatus, isLockError, isMutexError, isRedisCommandError, isRunEndedError, type LockData, type MultiHeartbeat } from "pulselock";
import { killAll, startChild, type Child } from "../support/child-process";
import { subscriberConnections } from "../support/subscribers";
import { uniqueKey, waitFor } from "../support/wait-for";
import { FAST, type Harness } from "./harness";

/**
 * The multi-key lock (acquireAllAndRun(), mutexAll()) on every transport: all
 * or nothing, no overlap on any key under concurrency, no deadlock, rollback
 * across cluster slots, takeover of a dead holder's set, seppuku of the whole
 * set, terminate(), and bad input.
 */
export function multiKeySuite(h: Harness): void {
  describe("multi-key lock", () => {
    const children: Child[] = [];
    afterEach(() => killAll(children.splice(0)));
    const childOptions = () => JSON.stringify({ prefix: h.ctx.childArgs().prefix, ...FAST });
    /** The cluster slot of a lock name's record, as the client's prefix and the key layout place it. */
    const slotOf = (name: string) => calculateSlot(`${h.ctx.prefix}pl:{${name}}`);
    /** `n` fresh names; on a cluster, the last one in the highest slot, so that it is taken last. */
    const spreadNames = (label: string, n: number) => {
      const names = Array.from({ length: n }, (_, i) => uniqueKey(`${label}-${i}`));
      return names.sort((a, b) => slotOf(a) - slotOf(b));
    };
    const isFree = async (locker: Locker, key: string) => (await locker.readLockData(key)) === "maybe_unlocked";
    /** A token far above any TIME-based one: a record written behind a holder's back. */
    const FOREIGN_TOKEN = 5_000_000_000_000_000;

    it("takes every key at once, each an ordinary lock with its own fencing token, and releases them all", async () => {
      const locker = h.locker();
      const keys = spreadNames("set", 4);
      let seen: ReadonlyMap<string, LockData> | undefined;
      const res = await locker.acquireAllAndRun(keys, async (heartbeat) => {
        seen = heartbeat.lockData;
        // Each key is a lock like any other: readLockData() shows the set's record, a single acquire is refused.
        for (const key of keys) expect(await h.locker().readLockData(key)).toMatchObject({ ownerHash: seen.get(key)!.ownerHash });
        expect((await h.locker().acquire(keys[2]!)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
        await heartbeat();
        return "done";
      });
      expect(res).toEqual({ status: LockStatus.SUCCESS, result: "done" });
      expect([...seen!.keys()]).toEqual(keys);
      for (const key of keys) expect(await isFree(locker, key)).toBe(true);
      // Tokens grow per key across a single lock and the next set.
      const single = await locker.acquire(keys[0]!);
      if (single.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      expect(single.lockData.fencingToken).toBeGreaterThan(seen!.get(keys[0]!)!.fencingToken);
      await locker.release(keys[0]!, single.lockData);
      await locker.acquireAllAndRun(keys, (heartbeat) => {
        expect(heartbeat.lockData.get(keys[0]!)!.fencingToken).toBeGreaterThan(single.lockData.fencingToken);
        for (const key of keys.slice(1)) expect(heartbeat.lockData.get(key)!.fencingToken).toBeGreaterThan(seen!.get(key)!.fencingToken);
      });
    });

    it("all or nothing: one key held by a live process refuses the set, names that key, runs nothing and leaves every other key free", async () => {
      const holder = h.locker();
      const locker = h.locker();
      const keys = spreadNames("aon", 4);
      // On a cluster the held key is the last one taken: the groups before it are taken, then rolled back.
      const held = await holder.acquire(keys[3]!);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      let ran = false;
      const res = await locker.acquireAllAndRun(keys, () => void (ran = true));
      expect(res).toEqual({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, key: keys[3], lockData: held.lockData });
      expect(ran).toBe(false);
      for (const key of keys.slice(0, 3)) expect(await isFree(locker, key)).toBe(true);
      // And right away another locker can take the keys that were free.
      expect((await h.locker().acquireAllAndRun(keys.slice(0, 3), () => "ok")).status).toBe(LockStatus.SUCCESS);
    });

    it("rollback on failure: a key that Redis refuses (a value of another type) fails the call and leaves no key of the set held", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const keys = spreadNames("rollback", 4);
      await h.ctx.admin("HSET", h.fullKey(db, keys[3]!), "f", "v");
      const error = await locker.acquireAllAndRun(keys, () => "never").catch((e: unknown) => e);
      expect(isRedisCommandError(error) && error.code).toBe("WRONGTYPE");
      for (const key of keys.slice(0, 3)) expect(await isFree(locker, key)).toBe(true);
    });

    it("keys that share a cluster slot are taken together, and mixed with keys of other slots", async () => {
      const a = uniqueKey("slot");
      let b = uniqueKey("slot");
      // On a cluster, find a second name in a's slot (about 16384 tries); elsewhere any name will do.
      if (h.ctx.shards > 1) while (slotOf(b) !== slotOf(a)) b = uniqueKey("slot");
      const keys = [a, b, uniqueKey("other")];
      const locker = h.locker();
      const res = await locker.acquireAllAndRun(keys, (heartbeat) => [...heartbeat.lockData.values()].map((d) => d.fencingToken));
      if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      if (h.ctx.shards > 1) expect(res.result[0]).toBe(res.result[1]); // one script call: one TIME, no previous token
      for (const key of keys) expect(await isFree(locker, key)).toBe(true);
    });

    it("many contenders on random overlapping sets: never two runs on one key, tokens grow per key, and no deadlock", async () => {
      const pool = Array.from({ length: 6 }, (_, i) => uniqueKey(`pool-${i}`));
      const running = new Map<string, number>();
      const tokens = new Map<string, number[]>();
      const overlaps: string[] = [];
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const subset = () =>
        pool
          .filter(() => random() < 0.5)
          .concat(pool[Math.floor(random() * pool.length)]!)
          .filter((k, i, a) => a.indexOf(k) === i);
      const job = (keys: string[]) => async (heartbeat: MultiHeartbeat) => {
        for (const key of keys) {
          if (running.get(key)) overlaps.push(key);
          running.set(key, 1);
          tokens.set(key, [...(tokens.get(key) ?? []), heartbeat.lockData.get(key)!.fencingToken]);
        }
        await new Promise((r) => setTimeout(r, 2 + random() * 10));
        await heartbeat();
        for (const key of keys) running.set(key, 0);
      };
      const lockers = Array.from({ length: 4 }, () => h.locker());
      let runs = 0;
      const contenders = lockers.flatMap((locker) =>
        Array.from({ length: 3 }, async () => {
          for (let round = 0; round < 3; round++) {
            const keys = subset();
            if (round === 1) {
              // A try that does not wait: it runs, or holds nothing.
              if ((await locker.acquireAllAndRun(keys, job(keys))).status === LockStatus.SUCCESS) runs++;
            } else {
              await locker.mutexAll(keys, { timeoutMs: 60_000 }, job(keys));
              runs++;
            }
          }
        }),
      );
      // No deadlock: every contender finishes well within the bound (each waits 60 s at most per try).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("contenders did not finish: deadlock?")), 90_000)));
      await Promise.race([Promise.all(contenders), bound]).finally(() => clearTimeout(timer));
      expect(overlaps).toEqual([]);
      expect(runs).toBeGreaterThanOrEqual(24);
      for (const seen of tokens.values()) for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
      for (const key of pool) expect(await isFree(lockers[0]!, key)).toBe(true);
    }, 120_000);

    it("mutexAll() waits for a held key, runs once it is released, times out with MutexError naming it, and stops on its signal", async () => {
      const holder = h.locker();
      const waiter = h.locker();
      const keys = spreadNames("wait", 3);
      const held = await holder.acquire(keys[1]!);
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const timedOut = await waiter.mutexAll(keys, { timeoutMs: 300 }, () => "never").catch((e: unknown) => e);
      expect(isMutexError(timedOut) && timedOut.key).toBe(keys[1]);
      const controller = new AbortController();
      const aborted = waiter.mutexAll(keys, { timeoutMs: 30_000, signal: controller.signal }, () => "never").catch((e: unknown) => e);
      controller.abort(new Error("stop"));
      expect(((await aborted) as Error).message).toBe("stop");
      // With pub/sub, a release wakes the waiter long before its next poll (≥ 10 s away: half of recheckDelayMs at least).
      const recheckDelayMs = h.ctx.supportsPubSub ? 20_000 : 100;
      const ran = waiter.mutexAll(keys, { timeoutMs: 30_000, recheckDelayMs }, (heartbeat) => ({ at: performance.now(), size: heartbeat.lockData.size }));
      const flag = `${h.ctx.prefix}pl:{${keys[1]}}:w`;
      if (h.ctx.supportsPubSub) await waitFor("the waiter flagged the held key", async () => Number(await h.ctx.admin("EXISTS", flag)) === 1);
      else await new Promise((r) => setTimeout(r, 200));
      // Between tries it holds none of the free keys (on a cluster a try holds one a moment, until its rollback).
      await waitFor("the free keys free", async () => (await isFree(holder, keys[0]!)) && (await isFree(holder, keys[2]!)), { timeoutMs: 5000 }); // it holds nothing while it waits
      const releasedAt = performance.now();
      await holder.release(keys[1]!, held.lockData);
      const { at, size } = await ran;
      expect(size).toBe(3);
      if (h.ctx.supportsPubSub) expect(at - releasedAt).toBeLessThan(5_000);
      // Nothing is left behind: no lock, no wait flag.
      for (const key of keys) expect(Number(await h.ctx.admin("EXISTS", `${h.ctx.prefix}pl:{${key}}:w`))).toBe(0);
    });

    it("mutexAll() and mutex() of one Locker share its one wake-up connection (per shard on a cluster)", async () => {
      if (!h.ctx.supportsPubSub) return expect(h.ctx.supportsPubSub).toBe(false);
      const holder = h.locker();
      const waiter = h.locker();
      const keys = spreadNames("shared-sub", 3);
      const subscribers = () => subscriberConnections(h.ctx);
      const before = await subscribers();
      const held = await Promise.all(keys.map((k) => holder.acquire(k)));
      const waits = [waiter.mutex(keys[0]!, { timeoutMs: 30_000 }, () => "one"), waiter.mutexAll(keys.slice(1), { timeoutMs: 30_000 }, () => "set")];
      await waitFor("the waiter subscribed", async () => (await subscribers()) > before);
      await new Promise((r) => setTimeout(r, 200));
      expect((await subscribers()) - before).toBeLessThanOrEqual(h.ctx.shards);
      for (const [i, res] of held.entries()) if (res.status === LockStatus.SUCCESS) await holder.release(keys[i]!, res.lockData);
      expect(await Promise.all(waits)).toEqual(["one", "set"]);
    });

    it("G3: a SIGKILLed holder's whole set is taken over within reportTtlMs, each key with a larger token", async () => {
      const keys = spreadNames("kill", 3);
      const holder = startChild("multi-holder.mjs", [h.ctx.childArgs().url, JSON.stringify(keys), childOptions()]);
      children.push(holder);
      const acquired = (await holder.next("acquired")).lockData as Record<string, LockData>;
      const contender = h.locker();
      expect((await contender.acquireAllAndRun(keys, () => "no")).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const killedAt = performance.now();
      holder.kill("SIGKILL");
      const pollMs = 50;
      const taken = await waitFor(
        "the set to be taken over",
        async () => {
          const res = await contender.acquireAllAndRun(keys, (heartbeat) => ({ at: performance.now(), lockData: heartbeat.lockData }));
          return res.status === LockStatus.SUCCESS ? res.result : undefined;
        },
        { intervalMs: pollMs },
      );
      expect(taken.at - killedAt).toBeLessThanOrEqual(FAST.reportTtlMs + pollMs + 1000);
      for (const key of keys) expect(taken.lockData.get(key)!.fencingToken).toBeGreaterThan(acquired[key]!.fencingToken);
    });

    it("G4: losing one key loses the set: the heartbeat throws that key's LockError, the signal aborts, and every other key is released", async () => {
      const db = h.ctx.database();
      const owner = h.locker({ db });
      const keys = spreadNames("seppuku", 3);
      const lost: unknown[] = [];
      owner.errors.subscribe((e) => e.type === "lost_lock" && lost.push(e.error));
      const run = owner.acquireAllAndRun(keys, async (heartbeat) => {
        await h.ctx.admin("DEL", h.fullKey(db, keys[1]!)); // e.g. an operator, or a write lost on failover
        await new Promise((r) => setTimeout(r, FAST.lockRecheckMs + 20));
        const error = await heartbeat().catch((e: unknown) => e);
        expect(isLockError(error) && error.key).toBe(keys[1]);
        expect(heartbeat.signal.aborted).toBe(true);
        expect(heartbeat.signal.reason).toBe(error);
        await expect(heartbeat()).rejects.toBe(error);
        // The other keys are still ours until the run ends: no other owner can be in yet.
        expect(await h.locker().readLockData(keys[0]!)).not.toBe("maybe_unlocked");
        return "finished anyway";
      });
      const error = await run.catch((e: unknown) => e);
      expect(isLockError(error) && error.key).toBe(keys[1]);
      expect(lost).toEqual([error]);
      for (const key of keys) expect(await isFree(owner, key)).toBe(true);
    });

    it("G4 on extension: another owner's record over one key loses the set with that key's LockError naming the holder; extensions move every key's extendedAt", async () => {
      const db = h.ctx.database();
      const owner = h.locker({ db, lockExtendMs: 100, lockRecheckMs: 10_000 });
      const keys = spreadNames("stolen", 3);
      const other = "e".repeat(32);
      const run = owner.acquireAllAndRun(keys, async (heartbeat) => {
        const before = heartbeat.lockData;
        await waitFor("every key to be extended", async () => {
          await heartbeat();
          const now = heartbeat.lockData;
          return keys.every((k) => Date.parse(now.get(k)!.extendedAt) > Date.parse(before.get(k)!.extendedAt)) || undefined;
        });
        for (const k of keys) expect(heartbeat.lockData.get(k)!.fencingToken).toBe(before.get(k)!.fencingToken);
        await h.ctx.admin("SET", h.fullKey(db, keys[2]!), `pl1|${FOREIGN_TOKEN}|1|1|${other}|5|`, "PX", "60000");
        for (;;) await heartbeat.delay(20);
      });
      const error = await run.catch((e: unknown) => e);
      expect(isLockError(error) && error.key).toBe(keys[2]);
      expect(isLockError(error) && error.lockData?.processHash).toBe(other);
      // The stolen key stays its new holder's; the others are free.
      expect(await h.ctx.admin("GET", h.fullKey(db, keys[2]!))).toBe(`pl1|${FOREIGN_TOKEN}|1|1|${other}|5|`);
      for (const key of [keys[0]!, keys[1]!]) expect(await isFree(owner, key)).toBe(true);
    });

    it("G4 on recheck: garbage over one key loses the set with that key's LockError (overwritten), and the garbage stays", async () => {
      const db = h.ctx.database();
      const owner = h.locker({ db });
      const keys = spreadNames("garbage", 3);
      const run = owner.acquireAllAndRun(keys, async (heartbeat) => {
        await h.ctx.admin("SET", h.fullKey(db, keys[1]!), "{oops}", "PX", "60000");
        for (;;) await heartbeat.delay(20);
      });
      const error = await run.catch((e: unknown) => e);
      expect(isLockError(error) && error.key).toBe(keys[1]);
      expect((error as Error).message).toMatch(/overwritten/);
      expect(await h.ctx.admin("GET", h.fullKey(db, keys[1]!))).toBe("{oops}");
      for (const key of [keys[0]!, keys[2]!]) expect(await isFree(owner, key)).toBe(true);
    });

    it("a set whose job blocks its thread past lockTtlMs ends with LockError, not SUCCESS (the set's deadline, no timer needed)", async () => {
      const owner = h.locker({ lockTtlMs: 1500, lockExtendMs: 500 });
      const keys = spreadNames("blocked", 3);
      let abortedAfterBlock: boolean | undefined;
      const run = owner.acquireAllAndRun(keys, (heartbeat) => {
        const end = Date.now() + 2000;
        while (Date.now() < end) {
          // no heartbeat, no timers: every record expires meanwhile
        }
        // What a job checks before it acts: the signal, exact even though no timer could run.
        abortedAfterBlock = heartbeat.signal.aborted;
        return "finished";
      });
      expect(isLockError(await run.catch((e: unknown) => e))).toBe(true);
      expect(abortedAfterBlock).toBe(true);
    });

    it("keys left by a process that died part-way through taking a set (no liveness record) are taken over at once", async () => {
      const db = h.ctx.database();
      const locker = h.locker({ db });
      const keys = spreadNames("partial-dead", 4);
      // As a crash between two slot groups leaves them: records of a dead process (no liveness record) on some keys.
      const dead = "d".repeat(32);
      const token = 1_000_000_000_000_000;
      for (const key of [keys[0]!, keys[2]!]) await h.ctx.admin("SET", h.fullKey(db, key), `pl1|${token}|1|1|${dead}|7|`, "PX", "60000");
      const res = await locker.acquireAllAndRun(keys, (heartbeat) => [...heartbeat.lockData.values()].map((d) => d.fencingToken));
      if (res.status !== LockStatus.SUCCESS) throw new Error(`not taken over: ${res.key}`);
      expect(res.result[0]).toBeGreaterThan(token);
      expect(res.result[2]).toBeGreaterThan(token);
    });

    it("two owners in one process: a set with a key that another run of the same Locker holds is refused", async () => {
      const locker = h.locker();
      const keys = spreadNames("same-process", 3);
      const inner = await locker.acquireAndRun(keys[1]!, () => locker.acquireAllAndRun(keys, () => "ran"));
      expect(inner.status).toBe(LockStatus.SUCCESS);
      expect(inner.result).toMatchObject({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, key: keys[1] });
      for (const key of keys) expect(await isFree(locker, key)).toBe(true);
    });

    it("G3: terminate() frees the whole set to others at once, and the run's signal aborts", async () => {
      const owner = h.locker({ reportTtlMs: 10_000, reportWriteMs: 2_000 });
      const keys = spreadNames("terminate", 3);
      let markHeld!: () => void;
      const inside = new Promise<void>((resolve) => (markHeld = resolve));
      const held = owner
        .acquireAllAndRun(keys, (heartbeat) => {
          markHeld();
          return new Promise((resolve) => heartbeat.signal.addEventListener("abort", resolve));
        })
        .catch((e: unknown) => e);
      await inside;
      const contender = h.locker();
      expect((await contender.acquireAllAndRun(keys, () => "no")).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const t0 = performance.now();
      await owner.terminate();
      const at = await waitFor("the set to be free", async () => {
        const res = await contender.acquireAllAndRun(keys, () => performance.now());
        return res.status === LockStatus.SUCCESS ? res.result : undefined;
      });
      expect(at - t0).toBeLessThanOrEqual(1000);
      expect(isLockError(await held)).toBe(true);
    });

    it("a set's heartbeat kept past its job throws RunEndedError, and its signal, read only then, is born aborted with it", async () => {
      let kept!: MultiHeartbeat;
      expect((await h.locker().acquireAllAndRun(spreadNames("kept", 2), (hb) => void (kept = hb))).status).toBe(LockStatus.SUCCESS);
      expect(kept.signal.aborted).toBe(true);
      expect(isRunEndedError(kept.signal.reason)).toBe(true);
      await expect(kept()).rejects.toSatisfy(isRunEndedError);
    });

    it("bad input is a TypeError before any Redis call, and leaves nothing behind", async () => {
      // A database that cannot load: a call that reached Redis would fail with DatabaseLoadError instead.
      const locker = new Locker({ database: { moduleName: "file:///nonexistent/pulselock-db.mjs", exportName: "db" }, ...FAST });
      const job = () => "never";
      const many = Array.from({ length: 101 }, (_, i) => `k${i}`);
      const cases: [string, () => Promise<unknown>, RegExp][] = [
        ["empty set", () => locker.acquireAllAndRun([], job), /at least one lock name/],
        ["duplicate", () => locker.acquireAllAndRun(["a", "b", "a"], job), /"a" twice \(at index 2\)/],
        ["non-string", () => locker.acquireAllAndRun(["a", 1 as unknown as string], job), /non-empty string lock names, got .*1.* at index 1/],
        ["empty string", () => locker.acquireAllAndRun(["a", ""], job), /an empty string at index 1/],
        ["not an array", () => locker.acquireAllAndRun("a" as unknown as string[], job), /needs an array of lock names/],
        ["too many", () => locker.acquireAllAndRun(many, job), /at most 100 lock names in one set/],
        ["no function", () => locker.acquireAllAndRun(["a"], undefined as never), /needs a function to run/],
        ["mutexAll: too many", () => locker.mutexAll(many, { timeoutMs: 10 }, job), /mutexAll\(\) takes at most 100/],
        ["mutexAll: number", () => locker.mutexAll(["a"], 10 as never, job), /mutexAll\(\) takes its options as an object/],
        ["mutexAll: timeout", () => locker.mutexAll(["a"], { timeoutMs: -1 }, job), /mutexAll\(\) needs timeoutMs >= 0/],
      ];
      try {
        for (const [what, call, message] of cases) {
          const error = await call().then(
            () => new Error(`${what}: resolved`),
            (e: unknown) => e,
          );
          expect(error, what).toBeInstanceOf(TypeError);
          expect((error as Error).message, what).toMatch(message);
        }
      } finally {
        await locker.terminate();
      }
    });
  });
}
