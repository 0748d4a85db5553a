import { Redis as Upstash } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isLivenessError } from "pulselock/core";
import { useRequestCount } from "../support/request-count";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";

/**
 * HTTP requests per acquireAndRun from an idle isolate (issue 19): the first liveness write goes out with the
 * acquire, and the delete of the record with the release, so a job costs 2 requests and starts after the first.
 * Requests are counted at upstash-dev and at the global fetch (test/support/request-count.ts).
 */
const stack = useUpstashStack();
const { countedJob } = useRequestCount(stack);

function fresh(prefix: string, options: { reporterWorkerSpawnTimeoutMs?: number } = {}) {
  const client = new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false });
  return new Locker({ database: new RedisDatabase(client, { prefix }), ...options });
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await stack.admin.keys(`${prefix}*`)).sort();
}

describe("HTTP requests per acquireAndRun over Upstash (pulselock/core, liveness in this isolate)", () => {
  it("a fresh Locker's first job makes 2 requests and starts once the first is answered; so does a job after it went idle", async () => {
    // Scripts already cached, as on any server that has seen pulselock: a NOSCRIPT would add an EVAL request.
    const warm = fresh("req-warm:");
    expect((await warm.acquireAndRun(uniqueKey("warm"), () => {})).status).toBe(LockStatus.SUCCESS);
    await warm.terminate();

    const prefix = "req-count:";
    const locker = fresh(prefix);
    try {
      for (const job of ["first", "after idle"]) {
        const counted = await countedJob((inside) => locker.acquireAndRun(uniqueKey(job), inside));
        expect({ job, ...counted }).toEqual({ job, seen: { started: 1, answered: 1 }, total: 2, reachedRedis: 2 });
        // Idle again: the release and the delete of the liveness record both ran.
        expect(await keysUnder(prefix)).toEqual([]);
      }
    } finally {
      await locker.terminate();
    }
  });

  it("a first write that Redis refuses (out of memory): the acquire fails, the job never runs, no lock is left, and the key is free", async () => {
    const prefix = "req-refused:";
    const key = uniqueKey("refused");
    const locker = fresh(prefix, { reporterWorkerSpawnTimeoutMs: 1500 });
    let ran = false;
    await stack.admin.config("SET", "maxmemory-policy", "noeviction");
    await stack.admin.config("SET", "maxmemory", "1");
    try {
      await expect(stack.admin.set("probe", "1")).rejects.toThrow(/^OOM/);
      const error = await locker.acquireAndRun(key, () => void (ran = true)).catch((e: unknown) => e);
      expect(isLivenessError(error), String(error)).toBe(true);
      expect(String(error)).toMatch(/OOM/);
    } finally {
      await stack.admin.config("SET", "maxmemory", "0");
    }
    try {
      expect(ran).toBe(false);
      expect(await keysUnder(prefix)).toEqual([]);
      // Nothing is held under the refused identity: another Locker takes the key at once, and so does this one.
      const other = fresh(prefix);
      expect((await other.acquireAndRun(key, async () => "other")).status).toBe(LockStatus.SUCCESS);
      await other.terminate();
      expect(await locker.acquireAndRun(key, async () => "again")).toEqual({ status: LockStatus.SUCCESS, result: "again" });
      expect(await keysUnder(prefix)).toEqual([]);
    } finally {
      await locker.terminate();
    }
  });
});
