import { Redis as Upstash } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isLivenessError } from "pulselock/core";
import { useRequestCount } from "../support/request-count";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey, waitFor } from "../support/wait-for";

/**
 * HTTP requests per semaphore acquireAndRun and per acquireAllAndRun over 3 keys from an idle isolate (issue 20),
 * counted as for a lock (test/integration/upstash-requests.test.ts: 2 requests, the job starting after the first):
 * a new identity's first liveness write rides with the first acquire, and the delete of the record with the release.
 */
const stack = useUpstashStack();
const { countedJob } = useRequestCount(stack);

function fresh(prefix: string): Locker {
  const client = new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false });
  return new Locker({ database: new RedisDatabase(client, { prefix }) });
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await stack.admin.keys(`${prefix}*`)).sort();
}

/** Scripts already cached, as on any server that has seen pulselock: a NOSCRIPT would add an EVAL request. */
async function warmScripts(): Promise<void> {
  const warm = fresh("req-sets-warm:");
  expect((await warm.semaphore(uniqueKey("warm"), { limit: 3 }).acquireAndRun(() => {})).status).toBe(LockStatus.SUCCESS);
  expect((await warm.acquireAllAndRun([uniqueKey("a"), uniqueKey("b"), uniqueKey("c")], () => {})).status).toBe(LockStatus.SUCCESS);
  await warm.terminate();
}

describe("HTTP requests per semaphore and multi-key job over Upstash (pulselock/core, liveness in this isolate)", () => {
  it("acquireAllAndRun over 3 keys: 2 requests, the job starting once the first is answered; again after going idle", async () => {
    await warmScripts();
    const prefix = "req-set:";
    const locker = fresh(prefix);
    try {
      for (const job of ["first", "after idle"]) {
        const keys = [uniqueKey(`${job}-a`), uniqueKey(`${job}-b`), uniqueKey(`${job}-c`)];
        const counted = await countedJob((inside) => locker.acquireAllAndRun(keys, inside));
        expect({ job, ...counted }).toEqual({ job, seen: { started: 1, answered: 1 }, total: 2, reachedRedis: 2 });
        expect(await keysUnder(prefix)).toEqual([]);
      }
    } finally {
      await locker.terminate();
    }
  });

  it("semaphore acquireAndRun: 2 requests in total, the job starting once the first is answered, as for a lock; again after going idle", async () => {
    await warmScripts();
    const prefix = "req-sem:";
    const locker = fresh(prefix);
    try {
      for (const job of ["first", "after idle"]) {
        const sem = locker.semaphore(uniqueKey(job), { limit: 3 });
        const counted = await countedJob((inside) => sem.acquireAndRun(inside));
        // The first liveness write rides with the permit's SEMAPHORE_ACQUIRE (the batch's `before` hook, as for a lock
        // and a set: src/first-write.ts), and the release with the delete of the record.
        expect({ job, ...counted }).toEqual({ job, seen: { started: 1, answered: 1 }, total: 2, reachedRedis: 2 });
        expect(await keysUnder(prefix)).toEqual([]);
      }
    } finally {
      await locker.terminate();
    }
  });
});

describe.each([
  {
    what: "a set",
    prefix: "req-set-refused:",
    job: (locker: Locker): ((fn: () => unknown) => Promise<unknown>) => {
      const keys = [uniqueKey("refused-a"), uniqueKey("refused-b"), uniqueKey("refused-c")];
      return (fn) => locker.acquireAllAndRun(keys, fn);
    },
  },
  {
    what: "a semaphore permit",
    prefix: "req-sem-refused:",
    job: (locker: Locker): ((fn: () => unknown) => Promise<unknown>) => {
      const sem = locker.semaphore(uniqueKey("refused-sem"), { limit: 1 });
      return (fn) => sem.acquireAndRun(fn);
    },
  },
])("$what whose first liveness write Redis refuses (out of memory)", ({ prefix, job }) => {
  it("the acquire fails, the job never runs, nothing is left, and the keys are free", async () => {
    const client = new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false });
    const locker = new Locker({ database: new RedisDatabase(client, { prefix }), reporterWorkerSpawnTimeoutMs: 1500 });
    const run = job(locker);
    let ran = false;
    await stack.admin.config("SET", "maxmemory-policy", "noeviction");
    await stack.admin.config("SET", "maxmemory", "1");
    try {
      await expect(stack.admin.set("probe", "1")).rejects.toThrow(/^OOM/);
      const error = await run(() => void (ran = true)).catch((e: unknown) => e);
      expect(isLivenessError(error), String(error)).toBe(true);
      expect(String(error)).toMatch(/OOM/);
    } finally {
      await stack.admin.config("SET", "maxmemory", "0");
    }
    try {
      expect(ran).toBe(false);
      expect(await keysUnder(prefix)).toEqual([]);
      expect(await run(async () => "again")).toEqual({ status: LockStatus.SUCCESS, result: "again" });
      await waitFor("no key left under the prefix", async () => (await keysUnder(prefix)).length === 0);
    } finally {
      await locker.terminate();
    }
  });
});

describe("calls of one task on an idle Locker over Upstash", () => {
  it("a lock, a semaphore permit and a set asked for together all run, under the one new identity", async () => {
    const prefix = "req-together:";
    const locker = fresh(prefix);
    try {
      const sem = locker.semaphore(uniqueKey("together-sem"), { limit: 2 });
      const set = [uniqueKey("together-a"), uniqueKey("together-b")];
      // In one task: the lock's acquire makes the new identity, whose first write waits for the lock's call; the
      // permit and the set, asked for before that call leaves, must get that identity, not the write still unsent.
      const [lock, permit, multi] = await Promise.all([
        locker.acquireAndRun(uniqueKey("together-lock"), (heartbeat) => heartbeat.lockData.processHash),
        sem.acquireAndRun((heartbeat) => heartbeat.lockData.processHash),
        locker.acquireAllAndRun(set, (heartbeat) => heartbeat.lockData.get(set[1]!)!.processHash),
      ]);
      expect([lock.status, permit.status, multi.status]).toEqual([LockStatus.SUCCESS, LockStatus.SUCCESS, LockStatus.SUCCESS]);
      expect(lock.result).toMatch(/^[0-9a-f]{32}$/);
      expect([permit.result, multi.result]).toEqual([lock.result, lock.result]);
      // Nothing was taken under a bogus owner, and everything was released.
      expect(await stack.admin.keys("*undefined*")).toEqual([]);
      await waitFor("no key left under the prefix", async () => (await keysUnder(prefix)).length === 0);
    } finally {
      await locker.terminate();
    }
  });
});
