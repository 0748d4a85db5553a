import { Redis as Upstash } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase } from "pulselock/core";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey, waitFor } from "../support/wait-for";

/**
 * Semaphore permits and multi-key sets from an idle isolate over Upstash (issue 20), where a new identity's first
 * liveness write rides with the first acquire and the delete of the record with the release.
 */
const stack = useUpstashStack();

function fresh(prefix: string): Locker {
  const client = new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false });
  return new Locker({ database: new RedisDatabase(client, { prefix }) });
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await stack.admin.keys(`${prefix}*`)).sort();
}

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
