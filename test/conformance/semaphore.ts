import { afterEach, describe, expect, it } from "vitest";
import { LockStatus, isCorruptRecordError, isLockError, isMutexError, type LockData, type Locker } from "pulselock";
import { killAll, startChild, type Child } from "../support/child-process";
import { uniqueKey, waitFor } from "../support/wait-for";
import { FAST, type Harness } from "./harness";

/** Polls a semaphore's acquire() every `intervalMs` until it gets a permit; returns when, and the permit. */
async function acquirePermitWhenFree(locker: Locker, key: string, limit: number, intervalMs = 50, timeoutMs = 30_000) {
  const end = performance.now() + timeoutMs;
  const sem = locker.semaphore(key, { limit });
  for (;;) {
    const res = await sem.acquire();
    if (res.status === LockStatus.SUCCESS) return { at: performance.now(), lockData: res.lockData };
    if (performance.now() > end) throw new Error(`still full after ${timeoutMs} ms: ${res.holders.map((h) => h.ownerHash).join(", ")}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A run that holds its permit until its signal aborts; resolves `inside` once it holds it. */
function holdUntilAborted(locker: Locker, key: string, limit: number) {
  let markHeld!: (lockData: LockData) => void;
  const inside = new Promise<LockData>((resolve) => (markHeld = resolve));
  const run = locker
    .semaphore(key, { limit })
    .acquireAndRun((heartbeat) => {
      markHeld(heartbeat.lockData);
      return new Promise((resolve) => heartbeat.signal.addEventListener("abort", resolve));
    })
    .then(
      (res) => res,
      (error: unknown) => error,
    );
  return { inside, run };
}

/** Semaphores (issue 20): at most `limit` holders of a key, each permit with a lock's liveness, seppuku and fencing. */
export function semaphoreSuite(h: Harness): void {
  const children: Child[] = [];
  afterEach(() => killAll(children.splice(0)));
  const semKey = (key: string) => `${h.ctx.prefix}pl:sem:{${key}}`;
  const childOptions = () => JSON.stringify({ prefix: h.ctx.childArgs().prefix, ...FAST });

  describe("semaphore", () => {
    it("at most `limit` holders at once across lockers racing for permits, and the limit is reached", async () => {
      const lockers = Array.from({ length: 6 }, () => h.locker());
      const key = uniqueKey("sem-race");
      let holders = 0;
      let maxHolders = 0;
      let runs = 0;
      await Promise.all(
        lockers.map(async (locker) => {
          const sem = locker.semaphore(key, { limit: 3 });
          for (let i = 0; i < 10; i++) {
            await sem.waitAndRun({ timeoutMs: 30_000, recheckDelayMs: 5 }, async (heartbeat) => {
              holders++;
              runs++;
              maxHolders = Math.max(maxHolders, holders);
              await heartbeat.delay(10);
              holders--;
            });
          }
        }),
      );
      expect(runs).toBe(60);
      expect(maxHolders).toBeLessThanOrEqual(3);
      expect(maxHolders).toBeGreaterThanOrEqual(2);
    });

    it("N permits are held, the N+1th is refused with the holders; a released permit is free again", async () => {
      const key = uniqueKey("sem-full");
      const lockers = [h.locker(), h.locker(), h.locker()];
      const permits = await Promise.all(lockers.map((l, i) => l.semaphore(key, { limit: 3 }).acquire(`holder-${i}`)));
      expect(permits.map((p) => p.status)).toEqual([LockStatus.SUCCESS, LockStatus.SUCCESS, LockStatus.SUCCESS]);
      const fourth = h.locker().semaphore(key, { limit: 3 });
      const refused = await fourth.acquire();
      if (refused.status !== LockStatus.SOMEONE_ELSE_HOLDS_LOCK) throw new Error("a fourth permit was handed out");
      expect(refused.holders.map((x) => x.ownerHash).sort()).toEqual(permits.map((p) => p.lockData!.ownerHash).sort());
      const ran = await fourth.acquireAndRun(() => "ran");
      expect(ran).toMatchObject({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, holders: refused.holders });
      const first = permits[0]!;
      expect((await lockers[0]!.semaphore(key, { limit: 3 }).release(first.lockData!)).status).toBe(LockStatus.SUCCESS);
      expect(await fourth.acquireAndRun(() => "ran")).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
    });

    it("introspection lists the live holders with their traces, tokens and times, oldest first", async () => {
      const key = uniqueKey("sem-read");
      const a = await h.locker().semaphore(key, { limit: 5 }).acquire("export tenant 42");
      const b = await h.locker().semaphore(key, { limit: 5 }).acquire({ trace: "second" });
      if (a.status !== LockStatus.SUCCESS || b.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const reader = h.locker().semaphore(key, { limit: 5 });
      const holders = await reader.readHolders();
      expect(holders).toEqual([a.lockData, b.lockData]);
      expect(holders[0]).toMatchObject({ trace: "export tenant 42", acquiredAt: expect.any(String), extendedAt: expect.any(String) });
      expect(holders[0]!.fencingToken).toBeLessThan(holders[1]!.fencingToken);
      const extended = await b.extend();
      expect(extended.status).toBe(LockStatus.SUCCESS);
      expect((await reader.readHolders())[1]!.extendedAt >= b.lockData.extendedAt).toBe(true);
      expect(await h.locker().semaphore(uniqueKey("sem-empty"), { limit: 1 }).readHolders()).toEqual([]);
    });

    it("a SIGKILLed holder's permit is taken over within reportTtlMs plus the poll interval, with a larger token", async () => {
      const key = uniqueKey("sem-kill");
      const { url } = h.ctx.childArgs();
      const holder = startChild("semaphore-holder.mjs", [url, key, "2", childOptions()]);
      children.push(holder);
      const acquired = await holder.next("acquired");
      const contender = h.locker();
      const other = await contender.semaphore(key, { limit: 2 }).acquire();
      expect(other.status).toBe(LockStatus.SUCCESS);
      expect((await contender.semaphore(key, { limit: 2 }).acquire()).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const killedAt = performance.now();
      holder.kill("SIGKILL");
      const pollMs = 50;
      const { at, lockData } = await acquirePermitWhenFree(contender, key, 2, pollMs);
      expect(at - killedAt).toBeLessThanOrEqual(FAST.reportTtlMs + pollMs + 1000);
      expect(lockData.fencingToken).toBeGreaterThan((acquired.lockData as LockData).fencingToken);
      // The dead holder's permit is gone, the live one stays.
      const holders = await contender.semaphore(key, { limit: 2 }).readHolders();
      expect(holders.map((x) => x.ownerHash).sort()).toEqual([other.lockData!.ownerHash, lockData.ownerHash].sort());
    });

    it("terminate() frees the process's permits to others within 500 ms, and its runs end with LockError", async () => {
      const key = uniqueKey("sem-terminate");
      const owner = h.locker({ reportTtlMs: 10_000, reportWriteMs: 2_000 });
      const a = holdUntilAborted(owner, key, 2);
      const b = holdUntilAborted(owner, key, 2);
      await Promise.all([a.inside, b.inside]);
      const contender = h.locker();
      expect((await contender.semaphore(key, { limit: 2 }).acquire()).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      const t0 = performance.now();
      await owner.terminate();
      const { at } = await acquirePermitWhenFree(contender, key, 2, 10);
      expect(at - t0).toBeLessThanOrEqual(500);
      expect((await contender.semaphore(key, { limit: 2 }).acquire()).status).toBe(LockStatus.SUCCESS);
      expect(isLockError(await a.run)).toBe(true);
      expect(isLockError(await b.run)).toBe(true);
    });

    it("fencing tokens strictly increase per key, across concurrent permits, takeovers and FLUSHALL", async () => {
      const key = uniqueKey("sem-tokens");
      const locker = h.locker();
      const sem = locker.semaphore(key, { limit: 4 });
      const tokens: number[] = [];
      for (let i = 0; i < 5; i++) {
        const batch = await Promise.all(Array.from({ length: 4 }, () => sem.acquireAndRun(async (heartbeat) => heartbeat.lockData.fencingToken)));
        tokens.push(...batch.map((r) => r.result!).sort((x, y) => x - y));
      }
      const dying = h.locker();
      const held = await Promise.all(Array.from({ length: 4 }, () => dying.semaphore(key, { limit: 4 }).acquire()));
      tokens.push(...held.map((p) => p.lockData!.fencingToken).sort((x, y) => x - y));
      await dying.terminate();
      const taken = await sem.acquire(); // takeover of dead holders
      if (taken.status !== LockStatus.SUCCESS) throw new Error("not taken over");
      tokens.push(taken.lockData.fencingToken);
      await h.ctx.admin("FLUSHALL");
      const after = await h.locker().semaphore(key, { limit: 4 }).acquire();
      if (after.status !== LockStatus.SUCCESS) throw new Error("not acquired after FLUSHALL");
      tokens.push(after.lockData.fencingToken);
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
      expect(new Set(tokens).size).toBe(tokens.length);
    });

    it("seppuku: a permit deleted behind its holder's back ends the run with LockError; its signal aborts", async () => {
      const key = uniqueKey("sem-seppuku");
      const owner = h.locker();
      const lost: unknown[] = [];
      owner.errors.subscribe((e) => e.type === "lost_lock" && lost.push(e.error));
      const run = owner.semaphore(key, { limit: 2 }).acquireAndRun(async (heartbeat) => {
        const fields = (await h.ctx.admin("HKEYS", semKey(key))) as string[];
        const own = fields.find((f) => f !== "t")!;
        await h.ctx.admin("HDEL", semKey(key), own); // an operator, or a write lost on failover
        await new Promise((r) => setTimeout(r, FAST.lockRecheckMs + 20));
        const error = await heartbeat().catch((e: unknown) => e);
        expect(isLockError(error)).toBe(true);
        expect(heartbeat.signal.aborted).toBe(true);
        expect(heartbeat.signal.reason).toBe(error);
        return "finished anyway";
      });
      await expect(run).rejects.toSatisfy(isLockError);
      expect(lost).toHaveLength(1);
    });

    it("seppuku: a permit overwritten with a foreign value ends the run; the value is left alone", async () => {
      const key = uniqueKey("sem-overwrite");
      const owner = h.locker();
      const run = owner.semaphore(key, { limit: 1 }).acquireAndRun(async (heartbeat) => {
        const own = ((await h.ctx.admin("HKEYS", semKey(key))) as string[]).find((f) => f !== "t")!;
        await h.ctx.admin("HSET", semKey(key), own, "not a permit");
        await waitFor("the run to notice", async () => (await heartbeat().then(() => false, isLockError)) || undefined, { timeoutMs: 10_000 });
        return heartbeat.signal.reason as unknown;
      });
      const error = await run.catch((e: unknown) => e);
      expect(isLockError(error)).toBe(true);
      expect((error as Error).message).toContain("overwritten");
    });

    it("a hash at the semaphore's key that pulselock did not write is neither taken from nor changed, below the limit too", async () => {
      // Found by an attack pass: below the limit no permit was read, so a permit went into someone else's hash.
      for (const [label, fields] of [
        ["no t", ["garbage", "x"]],
        ["a t that is not a token", ["garbage", "x", "t", "abc"]],
      ] as const) {
        const key = uniqueKey(`sem-foreign-${label.replace(/ /g, "-")}`);
        await h.ctx.admin("HSET", semKey(key), ...fields);
        const error = await h
          .locker()
          .semaphore(key, { limit: 5 })
          .acquire()
          .catch((e: unknown) => e);
        expect(isCorruptRecordError(error), label).toBe(true);
        expect(await h.ctx.admin("HLEN", semKey(key)), label).toBe(fields.length / 2);
        for (let i = 0; i < fields.length; i += 2) expect(await h.ctx.admin("HGET", semKey(key), fields[i]!), label).toBe(fields[i + 1]);
      }
    });

    it("waitAndRun() is woken by a release, times out with MutexError, stops on its signal, and leaves no flag", async () => {
      const key = uniqueKey("sem-wait");
      const holder = h.locker().semaphore(key, { limit: 1 });
      const held = await holder.acquire();
      if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const waiter = h.locker().semaphore(key, { limit: 1 });
      // Timeout: MutexError naming the holder.
      const timedOut = await waiter.waitAndRun({ timeoutMs: 300 }, () => "ran").catch((e: unknown) => e);
      expect(isMutexError(timedOut)).toBe(true);
      expect((timedOut as { lockData: LockData }).lockData.ownerHash).toBe(held.lockData.ownerHash);
      // Signal: the waiter stops with its reason.
      const controller = new AbortController();
      const aborted = waiter.waitAndRun({ timeoutMs: 30_000, signal: controller.signal }, () => "ran").catch((e: unknown) => e);
      setTimeout(() => controller.abort(new Error("caller gave up")), 200);
      expect(((await aborted) as Error).message).toBe("caller gave up");
      // A release wakes the waiter (at once with pub/sub; by polling within its backoff otherwise).
      const recheckDelayMs = h.ctx.supportsPubSub ? 20_000 : 50;
      const ran = waiter.waitAndRun({ timeoutMs: 30_000, recheckDelayMs }, async (heartbeat) => ({
        at: performance.now(),
        token: heartbeat.lockData.fencingToken,
      }));
      // With pub/sub a refused try flags the semaphore, so that the release publishes; without, nobody listens.
      if (h.ctx.supportsPubSub) await waitFor("the waiter flagged the semaphore", async () => Number(await h.ctx.admin("EXISTS", `${semKey(key)}:w`)) === 1);
      const releasedAt = performance.now();
      expect((await holder.release(held.lockData)).status).toBe(LockStatus.SUCCESS);
      const { at, token } = await ran;
      expect(at - releasedAt).toBeLessThan(5_000); // a poll would come ≥ 10 s later with pub/sub
      expect(token).toBeGreaterThan(held.lockData.fencingToken);
      expect(Number(await h.ctx.admin("EXISTS", `${semKey(key)}:w`))).toBe(0);
    });

    it("lowering the limit evicts nobody: new permits wait until fewer than the new limit hold", async () => {
      const key = uniqueKey("sem-lower");
      const locker = h.locker();
      const wide = locker.semaphore(key, { limit: 3 });
      const permits = await Promise.all([wide.acquire(), wide.acquire(), wide.acquire()]);
      const narrow = h.locker().semaphore(key, { limit: 2 });
      expect((await narrow.acquire()).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      expect(await wide.readHolders()).toHaveLength(3);
      await wide.release(permits[0]!.lockData!);
      expect((await narrow.acquire()).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK); // 2 held, limit 2
      await wide.release(permits[1]!.lockData!);
      expect((await narrow.acquire()).status).toBe(LockStatus.SUCCESS);
      expect(await wide.readHolders()).toHaveLength(2);
    });

    it("release(): a run's permit is refused with a TypeError, a released one answers NO_KEY, and nothing stays in Redis", async () => {
      const key = uniqueKey("sem-release");
      const locker = h.locker();
      const sem = locker.semaphore(key, { limit: 2 });
      await sem.acquireAndRun(async (heartbeat) => {
        await expect(sem.release(heartbeat.lockData)).rejects.toThrow(TypeError);
        expect((await locker.release(key, heartbeat.lockData)).status).not.toBe(LockStatus.SUCCESS); // a permit is not a lock
        await heartbeat();
      });
      const permit = await sem.acquire();
      if (permit.status !== LockStatus.SUCCESS) throw new Error("not acquired");
      const ttl = Number(await h.ctx.admin("PTTL", semKey(key)));
      expect(ttl).toBeGreaterThan(0);
      expect((await sem.release(permit.lockData)).status).toBe(LockStatus.SUCCESS);
      expect((await sem.release(permit.lockData)).status).toBe(LockStatus.NO_KEY);
      await waitFor("the semaphore's hash to go", async () => Number(await h.ctx.admin("EXISTS", semKey(key))) === 0, { timeoutMs: 5_000 });
    });

    it("bad input: a limit that is not a whole number in [1, 1000], a bad key or function, is a TypeError before any Redis call", async () => {
      const locker = h.locker();
      const key = uniqueKey("sem-bad");
      for (const limit of [0, -1, 1.5, Number.NaN, Infinity, 1001, "3", null, undefined]) {
        expect(() => locker.semaphore(key, { limit } as never), `limit ${String(limit)}`).toThrow(TypeError);
      }
      expect(() => locker.semaphore(key, undefined as never)).toThrow(/limit/);
      expect(() => locker.semaphore("", { limit: 1 })).toThrow(TypeError);
      expect(() => locker.semaphore(42 as never, { limit: 1 })).toThrow(TypeError);
      const sem = locker.semaphore(key, { limit: 1 });
      await expect(sem.acquireAndRun("not a function" as never)).rejects.toThrow(TypeError);
      await expect(sem.acquireAndRun(() => 1, { waitUntil: 5 as never })).rejects.toThrow(TypeError);
      await expect(sem.waitAndRun({ timeoutMs: -1 }, () => 1)).rejects.toThrow(/waitAndRun\(\)/);
      await expect(sem.release(null as never)).rejects.toThrow(TypeError);
      expect(Number(await h.ctx.admin("EXISTS", semKey(key)))).toBe(0);
      expect(await sem.readHolders()).toEqual([]);
    });
  });
}
