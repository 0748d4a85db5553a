import { Redis as Upstash } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isRedisCommandError } from "pulselock";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";

/** HTTP failures of the Upstash REST API become typed errors that say what happened, quickly, never a hang. */
const stack = useUpstashStack();
let locker: Locker;

beforeAll(async () => {
  const { rest } = stack;
  const client = new Upstash({ url: rest.url, token: rest.token, enableTelemetry: false, retry: false });
  locker = new Locker({ database: new RedisDatabase(client, { prefix: "http-errors:" }), reportWriteMs: 200, reportTtlMs: 2000 });
  // Start the liveness thread while the server is healthy.
  expect((await locker.acquire(uniqueKey("warm"))).status).toBe(LockStatus.SUCCESS);
});
afterEach(() => stack.rest.inject({ clear: true }));
afterAll(async () => {
  await locker?.terminate();
});

it.each([
  [{ status: 401 as const }, "UNAUTHORIZED", false],
  [{ status: 429 as const }, "RATE_LIMITED", true],
  [{ status: 500 as const }, "SERVER_ERROR", true],
  [{ status: 503 as const }, "SERVER_ERROR", true],
  [{ status: 500 as const, body: "<html>Bad Gateway</html>" }, "BAD_RESPONSE", true], // a non-JSON body
])("HTTP %o becomes RedisCommandError %s (transient: %s)", async (fault, code, transient) => {
  const { rest } = stack;
  rest.inject({ ...fault, times: Infinity });
  const t0 = performance.now();
  const err = await locker.acquire(uniqueKey("http")).catch((e) => e);
  expect(performance.now() - t0).toBeLessThan(5_000);
  expect(isRedisCommandError(err)).toBe(true);
  expect(err.code).toBe(code);
  expect(err.transient).toBe(transient);
  expect(err.operation).toBe("acquire");
  expect(err.message).not.toContain(rest.token);
  rest.inject({ clear: true });
  expect((await locker.acquire(uniqueKey("after"))).status).toBe(LockStatus.SUCCESS);
});

it('an HTTP error whose JSON body has no "error" field becomes BAD_RESPONSE (transient), not an unknown error', async () => {
  stack.rest.inject({ status: 500, body: "{}", times: Infinity });
  const err = await locker.acquire(uniqueKey("no-error-field")).catch((e) => e);
  expect(isRedisCommandError(err)).toBe(true);
  expect(err.code).toBe("BAD_RESPONSE");
  expect(err.transient).toBe(true);
  expect(err.message).toContain("an HTTP error status without an error message");
});

it("what the request carried (keys, traces) does not decide the class of an error: WRONGTYPE stays WRONGTYPE", async () => {
  // A key whose name reads like an HTTP failure, holding a value of the wrong type.
  const key = `job 503 unavailable 429 rate limit ${crypto.randomUUID()}`;
  await stack.admin.hset(`http-errors:pl:{${key}}`, "f", "v");
  const err = await locker.readLockData(key).catch((e) => e);
  expect(isRedisCommandError(err)).toBe(true);
  expect(err.code).toBe("WRONGTYPE");
  expect(err.transient).toBe(false);
});
