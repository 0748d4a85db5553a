import { Redis as Upstash } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { Locker, RedisDatabase, isRedisCommandError, isLivenessError } from "pulselock";
import { Locker as CoreLocker, RedisDatabase as CoreDatabase } from "pulselock/core";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";

/**
 * HTTP failures of the Upstash REST API on a new Locker's first liveness write, which every first acquire waits
 * for (on edge, every acquire after the Locker went idle): typed errors that say what failed. A file of its own,
 * since the faults it injects would lapse the liveness of other tests' Lockers on a shared server.
 */
const stack = useUpstashStack();

describe.each([
  ["the root entry (liveness written in this thread, as on edge)", CoreLocker, CoreDatabase],
  ["the Node entry (liveness written by a worker thread)", Locker, RedisDatabase],
] as const)("a new Locker's first liveness write, on %s", (_entry, LockerClass, DatabaseClass) => {
  const fresh = (timeoutMs: number) =>
    new LockerClass({
      database: new DatabaseClass(new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false }), {
        prefix: "http-errors-first:",
      }),
      reportWriteMs: 200,
      reportTtlMs: 2000,
      reporterWorkerSpawnTimeoutMs: timeoutMs,
    });

  it("HTTP 429 until the spawn timeout: a LivenessError that names the last failure, with it as cause", async () => {
    stack.rest.inject({ status: 429, times: Infinity });
    // Long enough for a worker thread to start and try on a busy machine; the in-thread entry tries at once.
    const l = fresh(4_000);
    try {
      const err = await l.acquire(uniqueKey("first-429")).catch((e) => e);
      expect(isLivenessError(err)).toBe(true);
      expect(err.message).toMatch(/within 4000 ms: the last try failed: .*429/);
      expect(isRedisCommandError(err.cause)).toBe(true);
      expect(err.cause.code).toBe("RATE_LIMITED");
    } finally {
      stack.rest.inject({ clear: true });
      await l.terminate();
    }
  });

  it("HTTP 401: refused at once with the typed error, without waiting for the spawn timeout", async () => {
    stack.rest.inject({ status: 401, times: Infinity });
    const l = fresh(30_000);
    try {
      const t0 = performance.now();
      const err = await l.acquire(uniqueKey("first-401")).catch((e) => e);
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(isRedisCommandError(err)).toBe(true);
      expect(err.code).toBe("UNAUTHORIZED");
    } finally {
      stack.rest.inject({ clear: true });
      await l.terminate();
    }
  });
});
