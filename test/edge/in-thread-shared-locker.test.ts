import { Redis as Upstash } from "@upstash/redis";
import { expect, it } from "vitest";
// The runtime-agnostic entry, as edge isolates get it: liveness from the current thread's timers.
import { Locker, LockStatus, RedisDatabase } from "pulselock/core";
import { useUpstashStack } from "../support/upstash-stack";
import { noKeysLeft } from "../support/lock-scenario";

/**
 * One in-thread Locker shared by concurrent calls, as a module-scope Locker in an isolate is: calls that need
 * the liveness record while another call's first write is out write it themselves (Liveness.join), and each
 * call's own waitUntil receives what that call leaves running.
 */
const stack = useUpstashStack();
const locker = () =>
  new Locker({
    database: new RedisDatabase(new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false })),
    reportWriteMs: 200,
    reportTtlMs: 1000,
  });

it("concurrent first acquisitions of a fresh Locker in one task all succeed, and they overlap under one record", async () => {
  const l = locker();
  const keys = Array.from({ length: 5 }, (_, i) => `fresh-${i}-${crypto.randomUUID()}`);
  const seen = new Set<string>();
  const results = await Promise.all(keys.map((k) => l.acquireAndRun(k, async (hb) => (seen.add(hb.lockData.processHash), await hb.delay(1200)))));
  expect(results.map((r) => r.status)).toEqual(Array(5).fill(LockStatus.SUCCESS));
  // One identity for all; held past reportTtlMs (1 s), so the holders' beats kept its record fresh.
  expect(seen.size).toBe(1);
  await noKeysLeft(stack.admin);
  await l.terminate();
});

it("a call's own waitUntil gets its run, its held lock and the idle delete, all settled once the call is done", async () => {
  const l = locker();
  const handed: Promise<unknown>[] = [];
  const res = await l.acquireAndRun(`per-call-${crypto.randomUUID()}`, () => "done", { waitUntil: (p) => handed.push(p) });
  expect(res).toEqual({ status: LockStatus.SUCCESS, result: "done" });
  expect(handed.length).toBeGreaterThanOrEqual(3);
  await Promise.all(handed);
  await noKeysLeft(stack.admin);
  await l.terminate();
});

it("a waitUntil option that is not a function is a TypeError, and nothing is acquired", async () => {
  const l = locker();
  const key = `bad-wait-until-${crypto.randomUUID()}`;
  await expect(l.acquireAndRun(key, () => 1, { waitUntil: "later" as never })).rejects.toThrow(/option waitUntil must be a function/);
  await expect(l.acquire(key, { waitUntil: 42 as never })).rejects.toThrow(TypeError);
  expect(await stack.admin.dbsize()).toBe(0);
  await l.terminate();
});
