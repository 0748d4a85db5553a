/*
 * What every edge runtime must show with semaphores and multi-key sets on one Locker shared by concurrent requests
 * (issue 20), through the routes of test/edge/fixtures/permit-routes.ts. Jobs log their start and end to a Redis
 * list, in the order Redis ran the pushes; overlaps are counted by replaying that log, never from clocks. A job logs
 * its start after its acquire was answered and its end before its release was sent, so the log can only show
 * fewer holders at once than there were, never more: a count above the limit is a real one.
 */
import type Redis from "ioredis";
import { expect, it } from "vitest";
import type { JobLogLine } from "../edge/fixtures/permit-routes";
import { noKeysLeft, watchKeyEnds } from "./lock-scenario";
import { uniqueKey, waitFor } from "./wait-for";

export interface PermitReply {
  status: string;
  tokens?: number[];
  /** How many live holders a refused permit was shown. */
  holders?: number;
  /** The held key a refused set names. */
  key?: string;
  error?: string;
}

export interface PermitApp {
  /** GET `path` (with its query string) from the app; its JSON answer. */
  get(path: string): Promise<PermitReply>;
  /** Everything the app's runtime has printed so far. */
  output(): string;
  /** A client on the redis-server behind the app. */
  admin: Redis;
  /** The key prefix of the app's Locker ("" for none). */
  prefix: string;
}

const q = encodeURIComponent;

/** The log written to `logKey`, which is then deleted (so that an empty Redis can be waited for). */
export async function readLog(admin: Redis, logKey: string): Promise<JobLogLine[]> {
  const lines = await admin.lrange(logKey, 0, -1);
  await admin.del(logKey);
  return lines.map((line) => JSON.parse(line) as JobLogLine);
}

/** Replays the log: the most jobs that held `key` at once. Every job must have ended, once. */
export function maxHolders(log: JobLogLine[], key: string): number {
  const running = new Set<string>();
  let max = 0;
  const ended = new Set<string>();
  for (const line of log) {
    if (line.event === "start" && line.keys!.includes(key)) {
      running.add(line.id);
      max = Math.max(max, running.size);
    } else if (line.event === "end") {
      expect(ended.has(line.id), `job ${line.id} ended twice`).toBe(false);
      ended.add(line.id);
      running.delete(line.id);
    }
  }
  expect([...running], `jobs on ${key} that never logged their end`).toEqual([]);
  return max;
}

/** Each key's fencing tokens, in the order its jobs logged their start. */
export function tokensByKey(log: JobLogLine[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const line of log) {
    if (line.event !== "start") continue;
    line.keys!.forEach((key, i) => byKey.set(key, [...(byKey.get(key) ?? []), line.tokens![i]!]));
  }
  return byKey;
}

function counts(replies: PermitReply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/**
 * `rounds` rounds of 10 concurrent acquireAndRun() requests on one semaphore of limit 3: 3 run (all at once) and 7
 * are refused with the 3 live holders; every token differs, and each round's exceed the last round's.
 */
export async function semaphoreRounds(app: PermitApp, key: string, rounds = 2, workMs = 2500): Promise<void> {
  let previous = -Infinity;
  for (let round = 0; round < rounds; round++) {
    const logKey = uniqueKey("permit-log");
    const path = `/semaphore?key=${q(key)}&limit=3&workMs=${workMs}&log=${q(logKey)}`;
    const replies = await Promise.all(Array.from({ length: 10 }, () => app.get(path)));
    expect(counts(replies), `round ${round}: ${JSON.stringify(replies)}`).toEqual({ SUCCESS: 3, SOMEONE_ELSE_HOLDS_LOCK: 7 });
    expect(replies.filter((r) => r.status !== "SUCCESS").map((r) => r.holders)).toEqual(Array(7).fill(3));
    const log = await readLog(app.admin, logKey);
    expect(maxHolders(log, key), `round ${round}: ${JSON.stringify(log)}`).toBe(3);
    const tokens = replies.flatMap((r) => r.tokens ?? []).sort((a, b) => a - b);
    expect(
      tokensByKey(log)
        .get(key)!
        .sort((a, b) => a - b),
    ).toEqual(tokens);
    expect(new Set(tokens).size).toBe(3);
    expect(tokens[0]).toBeGreaterThan(previous);
    previous = tokens[2]!;
  }
}

/** 10 concurrent waitAndRun() requests on one semaphore of limit 3: every one runs, never more than 3 at once. */
export async function semaphoreWaiting(app: PermitApp, key: string, workMs = 400): Promise<void> {
  const logKey = uniqueKey("permit-wait-log");
  const path = `/semaphore?key=${q(key)}&limit=3&workMs=${workMs}&wait=60000&log=${q(logKey)}`;
  const replies = await Promise.all(Array.from({ length: 10 }, () => app.get(path)));
  expect(counts(replies), JSON.stringify(replies)).toEqual({ SUCCESS: 10 });
  const log = await readLog(app.admin, logKey);
  const max = maxHolders(log, key);
  expect(max, JSON.stringify(log)).toBeLessThanOrEqual(3);
  // The limit is used: 10 waiters at once do not run one by one.
  expect(max).toBeGreaterThanOrEqual(2);
  expect(new Set(tokensByKey(log).get(key)).size).toBe(10);
}

/** Three keys and the sets [a,b], [b,c], [c,a] (each overlaps the other two), `each` requests per set. */
function overlappingSets(each: number): { keys: string[]; sets: string[][] } {
  const keys = ["a", "b", "c"].map((name) => uniqueKey(`set-${name}`));
  const [a, b, c] = keys as [string, string, string];
  const sets = [
    [a, b],
    [b, c],
    [c, a],
  ].flatMap((set) => Array.from({ length: each }, () => set));
  return { keys, sets };
}

/**
 * 9 concurrent acquireAllAndRun() requests on overlapping sets: exactly one runs, each other is refused naming a
 * held key of its own set, and no key ever has two holders.
 */
export async function setsRefused(app: PermitApp, workMs = 2500): Promise<void> {
  const { keys, sets } = overlappingSets(3);
  const logKey = uniqueKey("set-log");
  const replies = await Promise.all(sets.map((set) => app.get(`/multi?keys=${set.map(q).join(",")}&workMs=${workMs}&log=${q(logKey)}`)));
  expect(counts(replies), JSON.stringify(replies)).toEqual({ SUCCESS: 1, SOMEONE_ELSE_HOLDS_LOCK: 8 });
  replies.forEach((r, i) => r.status !== "SUCCESS" && expect(sets[i]).toContain(r.key));
  const log = await readLog(app.admin, logKey);
  const winner = sets[replies.findIndex((r) => r.status === "SUCCESS")]!;
  for (const key of keys) expect(maxHolders(log, key), key).toBe(winner.includes(key) ? 1 : 0);
}

/**
 * 6 concurrent mutexAll() requests on overlapping sets: every one runs, one after another, never two holders of a
 * key, and each key's tokens strictly increase in the order its jobs started.
 */
export async function setsWaiting(app: PermitApp, workMs = 300): Promise<void> {
  const { keys, sets } = overlappingSets(2);
  const logKey = uniqueKey("set-wait-log");
  const replies = await Promise.all(sets.map((set) => app.get(`/multi?keys=${set.map(q).join(",")}&workMs=${workMs}&wait=60000&log=${q(logKey)}`)));
  expect(counts(replies), JSON.stringify(replies)).toEqual({ SUCCESS: 6 });
  const log = await readLog(app.admin, logKey);
  const tokens = tokensByKey(log);
  for (const key of keys) {
    expect(maxHolders(log, key), key).toBe(1);
    const mine = tokens.get(key)!;
    expect(mine).toHaveLength(4); // each key is in two of the three sets, twice each
    for (let i = 1; i < mine.length; i++) expect(mine[i], `${key}: ${mine.join(", ")}`).toBeGreaterThan(mine[i - 1]!);
  }
}

/**
 * A permit taken by a request that answered at once (limit 1) is kept past the response through waitUntil (others
 * are refused, also past reportTtlMs), its job completes, and the permit is released: the semaphore's hash deleted,
 * not expired.
 */
export async function backgroundPermit(app: PermitApp, key: string, workMs = 4000): Promise<void> {
  const ends = await watchKeyEnds(app.admin);
  const semKey = `${app.prefix}pl:sem:{${key}}`;
  expect(await app.get(`/semaphore?key=${q(key)}&limit=1&workMs=${workMs}&background=1`)).toEqual({ status: "STARTED" });
  await waitFor("the background job to hold its permit", () => app.admin.exists(semKey));
  expect(await app.get(`/semaphore?key=${q(key)}&limit=1`)).toEqual({ status: "SOMEONE_ELSE_HOLDS_LOCK", holders: 1 });
  // Past reportTtlMs (3 s) of the apps: only the liveness writes of the background job keep its permit.
  await new Promise((r) => setTimeout(r, 3_200));
  expect(await app.get(`/semaphore?key=${q(key)}&limit=1`)).toEqual({ status: "SOMEONE_ELSE_HOLDS_LOCK", holders: 1 });
  const done = new RegExp(`job done: \\S+ ${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\d+`);
  await waitFor(`"job done" for ${key} in the app's output`, () => done.test(app.output()), { timeoutMs: 30_000 });
  expect(await waitFor("the semaphore's end", () => ends.get(semKey), { timeoutMs: 15_000 })).toBe("del");
}

/**
 * A wait whose request answered at once (mutex(), a semaphore's waitAndRun(), mutexAll()): each waits for a holder
 * that let go about a second later, and still runs its job, kept alive between its tries through waitUntil (on
 * Cloudflare Workers a request's timers and I/O die with it otherwise, and the wait never ended).
 */
export async function backgroundWaits(app: PermitApp, workMs = 1000): Promise<void> {
  const lock = uniqueKey("bg-lock");
  const sem = uniqueKey("bg-sem");
  const set = [uniqueKey("bg-set-a"), uniqueKey("bg-set-b")].map(q).join(",");
  const holders = [`/mutex?key=${q(lock)}`, `/semaphore?key=${q(sem)}&limit=1`, `/multi?keys=${set}`];
  for (const path of holders) expect(await app.get(`${path}&workMs=${workMs}&background=1`)).toEqual({ status: "STARTED" });
  const logKey = uniqueKey("bg-wait-log");
  const held = async () => (await app.admin.exists(`${app.prefix}pl:{${lock}}`, `${app.prefix}pl:sem:{${sem}}`)) === 2;
  await waitFor("the holders to hold their lock and permit", held);
  for (const path of holders) expect(await app.get(`${path}&workMs=0&wait=20000&background=1&log=${q(logKey)}`)).toEqual({ status: "STARTED" });
  // Each waiter's job logs its start and end: all three ran, after their holders.
  await waitFor("the three background waiters' jobs", async () => (await app.admin.llen(logKey)) >= 6, { timeoutMs: 30_000 });
  const log = await readLog(app.admin, logKey);
  expect(log.filter((line) => line.event === "end")).toHaveLength(3);
}

/** A lock, a permit and a set asked for in one request of an idle app: all run, under one process hash. */
export async function togetherWhenIdle(app: PermitApp): Promise<void> {
  const reply = (await app.get(`/together?key=${q(uniqueKey("together"))}`)) as PermitReply & { statuses: string[]; processHashes: string[] };
  expect(reply.statuses, JSON.stringify(reply)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
  expect(reply.processHashes[0]).toMatch(/^[0-9a-f]{32}$/);
  expect(reply.processHashes).toEqual(Array(3).fill(reply.processHashes[0]));
}

/**
 * The permit and set scenarios every edge runtime runs, each followed by `quietAfterwards` (the runtime's own check that
 * nothing is left and nothing keeps running). `app` is read when a test runs: the runtime starts in beforeAll.
 */
export function permitScenarioTests(app: () => PermitApp, admin: () => Redis, quietAfterwards: () => Promise<void>): void {
  it("semaphore of limit 3, 10 concurrent acquireAndRun requests: 3 run at once, 7 are refused, round after round, tokens growing", async () => {
    await semaphoreRounds(app(), `sem-${crypto.randomUUID()}`);
    await quietAfterwards();
  });

  it("semaphore of limit 3, 10 concurrent waitAndRun requests: all run, never more than 3 at once", async () => {
    await semaphoreWaiting(app(), `sem-wait-${crypto.randomUUID()}`);
    await quietAfterwards();
  });

  it("acquireAllAndRun on overlapping sets [a,b] [b,c] [c,a], 9 concurrent requests: one runs, the others are refused, no key has two holders", async () => {
    await setsRefused(app());
    await quietAfterwards();
  });

  it("mutexAll on overlapping sets, 6 concurrent requests: all run, never two holders of a key, tokens growing per key", async () => {
    await setsWaiting(app());
    await quietAfterwards();
  });

  it("a background permit outlives its response through waitUntil, completes and frees its permit; nothing is left", async () => {
    await backgroundPermit(app(), `sem-background-${crypto.randomUUID()}`);
    await quietAfterwards();
  });

  it("mutex(), waitAndRun() and mutexAll() whose requests answered at once still wait, run and end through waitUntil", async () => {
    await backgroundWaits(app());
    await quietAfterwards();
  });

  it("a lock, a permit and a set asked for in one request of an idle isolate all run, under one identity", async () => {
    await noKeysLeft(admin()); // idle: the liveness record was deleted, so this request makes a new identity
    await togetherWhenIdle(app());
    await quietAfterwards();
  });
}
