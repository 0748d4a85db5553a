import { Redis as Upstash } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";

/**
 * SECURITY.md, "Upstash tokens never appear in logs or errors": whatever goes
 * wrong over HTTP (a wrong token, rate limits, server errors, garbage, a
 * refused liveness thread), no error pulselock throws or emits, no cause
 * chain, no stack and nothing written to the console contains the token.
 */
const stack = useUpstashStack();
const output: string[] = [];
const spies: { mockRestore(): void }[] = [];

beforeAll(() => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[method].bind(console);
    spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => (output.push(args.map(String).join(" ")), original(...args))));
  }
  const write = process.stderr.write.bind(process.stderr);
  spies.push(
    vi
      .spyOn(process.stderr, "write")
      .mockImplementation(
        ((chunk: unknown, ...rest: unknown[]) => (output.push(String(chunk)), write(chunk as string, ...(rest as [])))) as typeof process.stderr.write,
      ),
  );
});
afterEach(() => stack.rest.inject({ clear: true }));
afterAll(() => {
  for (const spy of spies) spy.mockRestore();
});

/** Everything an error carries, its causes' too, as text. */
function everythingIn(error: unknown, depth = 0): string {
  if (depth > 5 || error === null || error === undefined) return "";
  if (typeof error !== "object") return String(error);
  const e = error as Record<string, unknown>;
  const own = Object.getOwnPropertyNames(e).map((k) => `${k}=${typeof e[k] === "object" ? "" : String(e[k])}`);
  return [
    String(e.message ?? ""),
    String(e.stack ?? ""),
    JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? String(v) : v)) ?? "",
    ...own,
    everythingIn(e.cause, depth + 1),
  ].join("\n");
}

it("no error, cause, stack, emitted event or console line holds the token", async () => {
  const { rest } = stack;
  const seen: unknown[] = [];
  const client = new Upstash({ url: rest.url, token: rest.token, enableTelemetry: false, retry: false });
  const locker = new Locker({ database: new RedisDatabase(client, { prefix: "token:" }), reportWriteMs: 200, reportTtlMs: 2000 });
  locker.errors.subscribe((event) => seen.push(event.error));
  const wrong = `wrong-${rest.token}-x`; // contains the real token: a leak of either would show
  const wrongClient = new Upstash({ url: rest.url, token: wrong, enableTelemetry: false, retry: false });
  const wrongLocker = new Locker({ database: new RedisDatabase(wrongClient), reportWriteMs: 200, reportTtlMs: 2000, reporterWorkerSpawnTimeoutMs: 5000 });
  wrongLocker.errors.subscribe((event) => seen.push(event.error));
  try {
    const held = await locker.acquire(uniqueKey("token"));
    expect(held.status).toBe(LockStatus.SUCCESS);
    for (const fault of [{ status: 401 as const }, { status: 429 as const }, { status: 500 as const }, { status: 500 as const, body: "<html>oops</html>" }]) {
      rest.inject({ ...fault, times: Infinity });
      seen.push(await locker.acquire(uniqueKey("token")).catch((e: unknown) => e));
      seen.push(await locker.readLockData(uniqueKey("token")).catch((e: unknown) => e));
      if (held.status === LockStatus.SUCCESS) seen.push(await held.extend().catch((e: unknown) => e));
      rest.inject({ clear: true });
    }
    // A wrong token: refused at the liveness thread's first write and at the lock script.
    seen.push(await wrongLocker.acquire(uniqueKey("token")).catch((e: unknown) => e));
  } finally {
    await Promise.all([locker.terminate(), wrongLocker.terminate()]);
  }
  const errors = seen.filter((e) => e instanceof Error || (typeof e === "object" && e !== null && "message" in e));
  expect(errors.length).toBeGreaterThanOrEqual(8);
  for (const error of errors) expect(everythingIn(error)).not.toContain(rest.token);
  expect(output.join("\n")).not.toContain(rest.token);
});
