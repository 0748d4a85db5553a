/*
 * A connection that stalls (a proxy holds every byte) or a client the app
 * configured its own way, through the public API: found by attack passes on
 * the packed package, each test failed before its fix.
 */
import Redis, { type RedisOptions } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Locker, LockStatus, isLockerTerminatedError, isMutexError, isRedisCommandError, type LockerErrorEvent } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";
import { startProxy } from "../support/tcp-proxy.mjs";
import { uniqueKey, waitFor } from "../support/wait-for";

const FAST = { reportWriteMs: 500, reportTtlMs: 3000, lockRecheckMs: 1000, lockExtendMs: 10_000, lockTtlMs: 60_000 };

let server: Awaited<ReturnType<typeof startRedis>>;
let admin: Redis;
const proxies: Awaited<ReturnType<typeof startProxy>>[] = [];
const clients: Redis[] = [];
const lockers: Locker[] = [];

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
});
afterEach(async () => {
  for (const p of proxies.splice(0)) p.pass();
  await Promise.all(lockers.splice(0).map((l) => l.terminate()));
  for (const c of clients.splice(0)) c.disconnect();
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(async () => {
  admin.disconnect();
  await server.close();
});

function client(port: number, options: RedisOptions = {}): Redis {
  const c = new Redis({ host: "127.0.0.1", port, ...options });
  c.on("error", () => {});
  clients.push(c);
  return c;
}

function locker(database: Redis, options: Partial<typeof FAST> = {}): Locker {
  const l = new Locker({ database, ...FAST, ...options });
  lockers.push(l);
  return l;
}

async function proxy() {
  const p = await startProxy(server.port);
  proxies.push(p);
  return p;
}

describe("a stalled connection", () => {
  it("an acquire that timed out leaves no lock behind once the connection heals", async () => {
    const p = await proxy();
    const a = locker(client(p.port, { commandTimeout: 500 }));
    a.errors.subscribe(() => {});
    // A Locker that holds another lock and heartbeats it, as a worker that runs several jobs does.
    let stop = false;
    const other = a.acquireAndRun(uniqueKey("other"), async (heartbeat) => {
      while (!stop) await heartbeat.delay(50);
    });
    await waitFor("the other lock held", async () => (await admin.keys("pl:{other:*")).length === 1);
    const key = uniqueKey("job");
    p.blackhole();
    const started = performance.now();
    // The caller is told the acquisition failed: it must not find the lock held under its live identity afterwards.
    await expect(a.acquireAndRun(key, async () => "ran")).rejects.toMatchObject({ name: "RedisCommandError" });
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (performance.now() - started)))); // heal within reportTtlMs
    p.pass();
    await waitFor("the timed-out acquire's lock freed", async () => (await admin.exists(`pl:{${key}}`)) === 0, { timeoutMs: 15_000 });
    expect((await locker(client(server.port)).acquire(key)).status).toBe(LockStatus.SUCCESS);
    stop = true;
    await expect(other).resolves.toMatchObject({ status: LockStatus.SUCCESS });
  });

  it("terminate() rejects an acquisition whose script is out on a silent connection with LockerTerminatedError", async () => {
    const p = await proxy();
    const a = locker(client(p.port));
    a.errors.subscribe(() => {});
    // Liveness is up first, so that what hangs is the acquisition's own script.
    await a.acquireAndRun(uniqueKey("warm"), async () => {});
    p.blackhole();
    const [lock, sem, setA, setB] = [uniqueKey("lock"), uniqueKey("sem"), uniqueKey("set-a"), uniqueKey("set-b")];
    const calls = [
      a.acquireAndRun(lock, async () => "ran"),
      a.semaphore(sem, { limit: 2 }).acquireAndRun(async () => "ran"),
      a.acquireAllAndRun([setA, setB], async () => "ran"),
    ].map((call) =>
      call.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300)); // every script is out by now (the proxy holds the bytes)
    await Promise.race([a.terminate(), new Promise((r) => setTimeout(r, 8000))]);
    const settled = await Promise.race([Promise.all(calls), new Promise<"pending">((r) => setTimeout(() => r("pending"), 2000))]);
    expect(settled).not.toBe("pending");
    for (const outcome of settled as { error?: unknown }[]) expect(isLockerTerminatedError(outcome.error)).toBe(true);
    // The scripts still run once the connection heals; what they may write is freed by the releases sent behind them.
    p.pass();
    const keys = [`pl:{${lock}}`, `pl:sem:{${sem}}`, `pl:{${setA}}`, `pl:{${setB}}`];
    await waitFor("nothing left held", async () => (await admin.exists(...keys)) === 0, { timeoutMs: 15_000 });
  });
});

describe("the app's own client options", () => {
  it("a client with enableOfflineQueue: false runs its first job (the liveness thread's own client queues)", async () => {
    const c = client(server.port, { enableOfflineQueue: false });
    await new Promise((r) => c.once("ready", r));
    const l = locker(c, { reportWriteMs: 200, reportTtlMs: 1000 });
    for (let i = 0; i < 3; i++) {
      await expect(l.acquireAndRun(uniqueKey("offline-queue"), async () => "ran")).resolves.toEqual({ status: LockStatus.SUCCESS, result: "ran" });
    }
  });

  it("the client's background errors go to locker.errors, not to stderr, while a Locker uses the client", async () => {
    // Found by a drop-in check: @clickup/distributed-locker forwarded them; ioredis printed "Unhandled error event".
    const own = await startRedis();
    const c = new Redis(own.url); // no error listener of the app's own
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const l = new Locker({ database: c, ...FAST });
      const events: LockerErrorEvent[] = [];
      l.errors.subscribe((event) => void events.push(event));
      await l.acquireAndRun(uniqueKey("connected"), async () => {});
      await own.close(); // every reconnect of the client now fails
      await waitFor("a connection error on locker.errors", () => events.some((e) => e.type === "locker" && isRedisCommandError(e.error)));
      expect(printed.mock.calls.filter((args) => String(args[0]).includes("Unhandled error event"))).toEqual([]);
      await l.terminate();
      expect(c.listenerCount("error")).toBe(0); // the app's client is left as it was given
    } finally {
      printed.mockRestore();
      c.disconnect();
    }
  });

  it("terminate() right after a mutex() call puts nothing on locker.errors", async () => {
    const c = client(server.port);
    for (let i = 0; i < 5; i++) {
      const l = locker(c);
      const events: LockerErrorEvent[] = [];
      l.errors.subscribe((event) => void events.push(event));
      const key = uniqueKey("mutex-then-terminate");
      const call = l.mutex(key, { timeoutMs: 1000 }, async () => 1).catch((error: unknown) => error);
      await new Promise((r) => setTimeout(r, 0)); // the SUBSCRIBE is on its way
      await l.terminate();
      await call;
      await new Promise((r) => setTimeout(r, 50));
      expect(events.map((e) => `${e.type}: ${String((e.error as Error)?.message)}`)).toEqual([]);
    }
  });
});

describe("waiting", () => {
  const settle = <T>(call: Promise<T>) =>
    call.then(
      (value) => ({ value, error: undefined as unknown }),
      (error: unknown) => ({ value: undefined, error }),
    );
  const flagOf = (key: string) => `pl:{${key}}:w`;

  it("a wait whose pub/sub connection stalls runs at once on a free key, and keeps its timeout and signal on a held one", async () => {
    const p = await proxy();
    const a = locker(client(p.port));
    a.errors.subscribe(() => {});
    await a.acquireAndRun(uniqueKey("warm"), async () => {}); // the client's and the liveness thread's connections are open
    p.stallNewConnections(); // the subscriber, opened by the first wait, never answers
    const started = performance.now();
    await expect(a.mutex(uniqueKey("free"), { timeoutMs: 5000 }, async () => "ran")).resolves.toBe("ran");
    expect(performance.now() - started).toBeLessThan(3000);
    const heldKey = uniqueKey("held");
    expect((await locker(client(server.port)).acquire(heldKey)).status).toBe(LockStatus.SUCCESS);
    const timedOut = await settle(a.mutex(heldKey, { timeoutMs: 300 }, async () => "ran"));
    expect(isMutexError(timedOut.error)).toBe(true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("caller gave up")), 200);
    const aborted = await settle(a.mutex(heldKey, { timeoutMs: 30_000, signal: controller.signal }, async () => "ran"));
    expect((aborted.error as Error).message).toBe("caller gave up");
  });

  it("terminate() ends every wait at once with LockerTerminatedError, not at the waiter's next try", async () => {
    const holder = locker(client(server.port));
    const [key, other, sem] = [uniqueKey("wait-lock"), uniqueKey("wait-other"), uniqueKey("wait-sem")];
    expect((await holder.acquire(key)).status).toBe(LockStatus.SUCCESS);
    expect((await holder.semaphore(sem, { limit: 1 }).acquire()).status).toBe(LockStatus.SUCCESS);
    const a = locker(client(server.port));
    const slow = { timeoutMs: 60_000, recheckDelayMs: 20_000 }; // a first pause of 10 to 20 s
    const waits = [
      settle(a.mutex(key, slow, async () => "ran")),
      settle(a.semaphore(sem, { limit: 1 }).waitAndRun(slow, async () => "ran")),
      settle(a.mutexAll([other, key], slow, async () => "ran")),
    ];
    await waitFor("the waiters tried once and flagged", async () => (await admin.exists(flagOf(key), `pl:sem:{${sem}}:w`)) === 2);
    await new Promise((r) => setTimeout(r, 200)); // every waiter is in its pause
    const terminating = performance.now();
    await a.terminate();
    const settled = await Promise.race([Promise.all(waits), new Promise<"pending">((r) => setTimeout(() => r("pending"), 3000))]);
    expect(settled).not.toBe("pending");
    for (const { error } of settled as { error: unknown }[]) expect(isLockerTerminatedError(error)).toBe(true);
    expect(performance.now() - terminating).toBeLessThan(3000);
  });

  it("a signal aborted while the try that gets the lock is out: the job does not run, the lock is released, the wait rejects with the reason", async () => {
    const p = await proxy();
    const a = locker(client(p.port));
    const holder = locker(client(server.port));
    const key = uniqueKey("abort-on-success");
    const held = await holder.acquire(key);
    if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
    // Another wait of the same Locker keeps the key's subscription in place, so the next wait's first try leaves at once.
    const first = settle(a.mutex(key, { timeoutMs: 30_000 }, async () => "first"));
    await waitFor("the first waiter flagged the lock", async () => (await admin.exists(flagOf(key))) === 1);
    p.delay(300); // a try through the proxy is out for 600 ms
    const controller = new AbortController();
    let ran = false;
    const call = settle(
      a.mutex(key, { timeoutMs: 10_000, signal: controller.signal }, async () => {
        ran = true;
      }),
    );
    // The try reaches Redis 300 ms from now, after this release: it gets the lock, and its reply comes after the abort.
    await new Promise((r) => setTimeout(r, 50));
    expect((await holder.release(key, held.lockData)).status).toBe(LockStatus.SUCCESS);
    setTimeout(() => controller.abort(new Error("caller gave up")), 100);
    expect(((await call).error as Error)?.message).toBe("caller gave up");
    expect(ran).toBe(false);
    p.pass();
    expect((await first).value).toBe("first"); // the lock was released, and the other waiter got it
  });

  it("a waiter that gives up leaves the wake-up flag to those still waiting, and a short timeout does not shorten it", async () => {
    const holder = locker(client(server.port));
    const key = uniqueKey("shared-flag");
    const held = await holder.acquire(key);
    if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
    // A waits long, with a first pause of 10 to 20 s: only a wake-up can bring it in soon after the release.
    const patient = settle(locker(client(server.port)).mutex(key, { timeoutMs: 60_000, recheckDelayMs: 20_000 }, async () => performance.now()));
    await waitFor("the patient waiter flagged the lock", async () => (await admin.exists(flagOf(key))) === 1);
    // B tries after A with a short timeout, and gives up.
    const impatient = await settle(locker(client(server.port)).mutex(key, { timeoutMs: 300 }, async () => "ran"));
    expect(isMutexError(impatient.error)).toBe(true);
    expect(await admin.pttl(flagOf(key))).toBeGreaterThan(30_000);
    const released = performance.now();
    expect((await holder.release(key, held.lockData)).status).toBe(LockStatus.SUCCESS);
    const { value: ranAt } = await patient;
    expect((ranAt as number) - released).toBeLessThan(5000);
  });
});
