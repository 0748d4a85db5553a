import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { ACQUIRE } from "../../src/scripts/acquire";
import { ACQUIRE_ALL } from "../../src/scripts/acquire-all";
import { EXTEND } from "../../src/scripts/extend";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";
import { SEMAPHORE_ACQUIRE } from "../../src/scripts/semaphore-acquire";
import { SEMAPHORE_EXTEND } from "../../src/scripts/semaphore-extend";
import { SEMAPHORE_READ } from "../../src/scripts/semaphore-read";
import { SEMAPHORE_RELEASE } from "../../src/scripts/semaphore-release";
import { startRedis } from "../support/redis-server.mjs";
import { waitFor } from "../support/wait-for";

/**
 * SECURITY.md, "User data never goes into script text": every script that
 * reaches Redis is one of pulselock's constants, whatever the lock name or
 * trace holds; names and traces travel only as KEYS and ARGV. Watched with
 * MONITOR on a real redis-server while every public method runs with hostile
 * names, and once more after SCRIPT FLUSH, so the EVAL fallback is covered.
 */
const SCRIPTS = [ACQUIRE, ACQUIRE_ALL, EXTEND, READ, RELEASE, REMOVE, REPORT, SEMAPHORE_ACQUIRE, SEMAPHORE_EXTEND, SEMAPHORE_READ, SEMAPHORE_RELEASE];
const HOSTILE = ["]]) redis.call('FLUSHALL') --", "' .. redis.call('FLUSHALL') .. '", "x\nredis.call('FLUSHALL')", '{slot}\u0000%7B"}'];

let server: Awaited<ReturnType<typeof startRedis>>;
let monitor: Redis;
const commands: string[][] = [];

/** MONITOR prints arguments escaped (sdscatrepr): undo it to compare with the script constants. */
function unescapeMonitor(arg: string): string {
  const named: Record<string, string> = { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", "\\": "\\", '"': '"' };
  return arg.replace(/\\(x[0-9a-f]{2}|.)/g, (_, c: string) =>
    c.startsWith("x") && c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (named[c] ?? c),
  );
}

beforeAll(async () => {
  server = await startRedis();
  monitor = await new Redis(server.url).monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source !== "lua") commands.push(args.map(unescapeMonitor));
  });
});
afterAll(async () => {
  monitor?.disconnect();
  await server?.close();
});

async function exerciseEveryMethod(locker: Locker, name: string): Promise<void> {
  const lock = await locker.acquire(name, name);
  expect(lock.status).toBe(LockStatus.SUCCESS);
  if (lock.status !== LockStatus.SUCCESS) return;
  expect((await lock.extend()).status).toBe(LockStatus.SUCCESS);
  expect(await locker.readLockData(name)).toMatchObject({ ownerHash: lock.lockData.ownerHash });
  expect(await locker.readOwnerHashStatus(lock.lockData.ownerHash)).toMatchObject({ key: name });
  expect((await locker.release(name, lock.lockData)).status).toBe(LockStatus.SUCCESS);
  const run = await locker.acquireAndRun(name, async (heartbeat) => heartbeat.lockData.fencingToken, { trace: name });
  expect(run.status).toBe(LockStatus.SUCCESS);
  expect(await locker.mutex(name, { timeoutMs: 5000, trace: name }, async () => "ran")).toBe("ran");
  const set = [name, `${name}-2`];
  expect((await locker.acquireAllAndRun(set, async () => "ran", { trace: name })).status).toBe(LockStatus.SUCCESS);
  expect(await locker.mutexAll(set, { timeoutMs: 5000, trace: name }, async () => "ran")).toBe("ran");
  const sem = locker.semaphore(name, { limit: 1 });
  const permit = await sem.acquire(name);
  expect(permit.status).toBe(LockStatus.SUCCESS);
  if (permit.status !== LockStatus.SUCCESS) return;
  expect((await permit.extend()).status).toBe(LockStatus.SUCCESS);
  expect(await sem.readHolders()).toEqual([expect.objectContaining({ trace: name })]);
  expect((await sem.release(permit.lockData)).status).toBe(LockStatus.SUCCESS);
  expect(await sem.waitAndRun({ timeoutMs: 5000, trace: name }, async (heartbeat) => heartbeat.lockData.trace)).toBe(name);
}

it("only pulselock's constant scripts reach Redis; hostile names and traces stay in KEYS/ARGV", async () => {
  const client = new Redis(server.url);
  const admin = new Redis(server.url);
  const locker = new Locker({ database: new RedisDatabase(client, { prefix: "sec:" }), reportWriteMs: 200, reportTtlMs: 2000 });
  try {
    for (const [i, hostile] of HOSTILE.entries()) {
      await exerciseEveryMethod(locker, hostile);
      if (i === 1) await admin.script("FLUSH"); // the next names go through the EVAL fallback
    }
    const marker = `sec-marker-${Date.now()}`;
    await admin.get(marker); // MONITOR is asynchronous: wait until our own last command shows up
    await waitFor("MONITOR to show the last command", () => commands.some((c) => c[1] === marker), { timeoutMs: 10_000 });
  } finally {
    await locker.terminate();
    client.disconnect();
    admin.disconnect();
  }

  const sources = new Set(SCRIPTS.map((s) => s.source));
  const shas = new Set(SCRIPTS.map((s) => s.sha));
  const evals = commands.filter((c) => c[0]?.toLowerCase() === "eval");
  const evalshas = commands.filter((c) => c[0]?.toLowerCase() === "evalsha");
  expect(evals.length).toBeGreaterThan(0);
  expect(evalshas.length).toBeGreaterThan(0);
  for (const c of evals) expect(sources.has(c[1]!), `EVAL of an unknown script: ${c[1]?.slice(0, 80)}`).toBe(true);
  for (const c of evalshas) expect(shas.has(c[1]!), `EVALSHA of an unknown SHA ${c[1]}`).toBe(true);
  // The hostile strings did reach Redis, as arguments only.
  const argText = [...evals, ...evalshas].flatMap((c) => c.slice(2)).join("\u0001");
  for (const hostile of HOSTILE.slice(0, 3)) expect(argText).toContain(hostile);
  // Redis kept its data: no injected FLUSHALL ran (the admin's last key read is still answered normally).
  expect(commands.some((c) => c[0]?.toLowerCase() === "flushall")).toBe(false);
});
