import { Redis as Upstash } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isRedisCommandError, type AcquireResult } from "pulselock";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";
import { startGarbageProxy } from "./garbage-proxy";

/*
 * The Upstash REST API answering 401, 429, 500 or garbage, for every public
 * method that test/integration/upstash-http-errors.test.ts does not cover
 * (it covers acquire): a RedisCommandError with the documented code and
 * `transient`, quickly, and nothing left once the fault clears.
 */
const stack = useUpstashStack();
let proxy: Awaited<ReturnType<typeof startGarbageProxy>>;
beforeAll(async () => {
  proxy = await startGarbageProxy(stack.rest.url);
});
afterAll(async () => {
  await proxy?.close();
});

/** A short lockTtlMs bounds release()'s retries of transient errors. */
const OPTIONS = { reportWriteMs: 200, reportTtlMs: 2000, lockTtlMs: 3000, lockExtendMs: 1000 };

/** A Locker on `url` holding one lock, under a prefix of its own. */
async function lockerHolding(url: string) {
  const prefix = `bi-upstash:${crypto.randomUUID()}:`;
  const client = new Upstash({ url, token: stack.rest.token, enableTelemetry: false, retry: false });
  const locker = new Locker({ database: new RedisDatabase(client, { prefix }), ...OPTIONS });
  const heldKey = uniqueKey("held");
  const held = (await locker.acquire(heldKey)) as Extract<AcquireResult, { status: LockStatus.SUCCESS }>;
  expect(held.status).toBe(LockStatus.SUCCESS);
  return { prefix, locker, heldKey, held };
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await stack.admin.keys(`${prefix}*`)).filter((k) => !k.startsWith(`${prefix}pl:proc:`));
}

type Held = Awaited<ReturnType<typeof lockerHolding>>;
const METHODS: Array<[string, string, (h: Held, ran: { fn: boolean }) => Promise<unknown>]> = [
  ["acquireAndRun", "acquire", (h, ran) => h.locker.acquireAndRun(uniqueKey("k"), () => void (ran.fn = true))],
  ["mutex", "acquire", (h, ran) => h.locker.mutex(uniqueKey("k"), 20_000, () => void (ran.fn = true))],
  ["release", "release", (h) => h.locker.release(h.heldKey, h.held.lockData)],
  ["extend", "extend", (h) => h.held.extend()],
  ["readLockData", "read", (h) => h.locker.readLockData(h.heldKey)],
  ["readOwnerHashStatus", "read", (h) => h.locker.readOwnerHashStatus(h.held.lockData.ownerHash)],
];

/** After the fault: the held lock is released (or had expired), and nothing of the test remains. */
async function expectNothingLeft(h: Held): Promise<void> {
  const released = await h.locker.release(h.heldKey, h.held.lockData);
  expect([LockStatus.SUCCESS, LockStatus.NO_KEY]).toContain(released.status);
  expect(await keysUnder(h.prefix)).toEqual([]);
  expect((await h.locker.acquireAndRun(uniqueKey("after"), async () => "ok")).status).toBe(LockStatus.SUCCESS);
  expect(await keysUnder(h.prefix)).toEqual([]);
}

async function outcome(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  const error = await call().then(
    (value) => ({ resolvedWith: value }),
    (e) => e,
  );
  return { error, ms: performance.now() - t0 };
}

describe("HTTP error statuses from the REST server", () => {
  const FAULTS = [
    ["401", { status: 401 as const }, "UNAUTHORIZED", false],
    ["429", { status: 429 as const }, "RATE_LIMITED", true],
    ["500", { status: 500 as const }, "SERVER_ERROR", true],
    ["500 with an HTML body", { status: 500 as const, body: "<html>Bad Gateway</html>" }, "BAD_RESPONSE", true],
  ] as const;
  const cases = METHODS.flatMap(([method, operation, call]) =>
    FAULTS.map(([label, fault, code, transient]) => [method, label, operation, call, fault, code, transient] as const),
  );

  it.each(cases)("%s during HTTP %s", async (_method, _label, operation, call, fault, code, transient) => {
    const h = await lockerHolding(stack.rest.url);
    try {
      const ran = { fn: false };
      stack.rest.inject({ ...fault, times: Infinity });
      const { error, ms } = await outcome(() => call(h, ran));
      stack.rest.inject({ clear: true });
      expect(isRedisCommandError(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code, transient, operation });
      expect((error as Error).message).not.toContain(stack.rest.token);
      // release() retries transient errors for up to lockTtlMs (3 s); everything else fails at once.
      expect(ms).toBeLessThan(10_000);
      expect(ran.fn).toBe(false);
      await expectNothingLeft(h);
    } finally {
      stack.rest.inject({ clear: true });
      await h.locker.terminate();
    }
  });
});

describe("HTTP 200 with a body that is not the Upstash protocol", () => {
  const BODIES = [
    ["not JSON", "not json"],
    ["truncated JSON", '{"result":'],
    ["JSON without result", '{"foo":1}'],
    ["a result of the wrong shape", '{"result":[7]}'],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
  ];
  const cases = METHODS.filter(([m]) => m !== "mutex" && m !== "readOwnerHashStatus").flatMap(([method, operation, call]) =>
    BODIES.map(([label, body]) => [method, label, operation, call, body] as const),
  );

  it.each(cases)("%s answered with %s is a transient BAD_RESPONSE", async (_method, _label, operation, call, body) => {
    const h = await lockerHolding(proxy.url);
    try {
      const ran = { fn: false };
      proxy.answer(body);
      const { error, ms } = await outcome(() => call(h, ran));
      proxy.answer(undefined);
      expect(isRedisCommandError(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code: "BAD_RESPONSE", transient: true, operation });
      expect(ms).toBeLessThan(10_000);
      expect(ran.fn).toBe(false);
      await expectNothingLeft(h);
    } finally {
      proxy.answer(undefined);
      await h.locker.terminate();
    }
  });
});
