/*
 * What every real platform must show with its example app (issue 15, item 3):
 * 10 concurrent requests for one key give one SUCCESS and 9 refusals, fencing
 * tokens grow across rounds, a background job kept alive by waitUntil
 * completes and releases its lock, and no key is left in Redis. The example
 * apps answer GET ?key=…&workMs=…[&background=1] and log "job done: <runtime>
 * <key> <token>" when a job ends.
 */
import type Redis from "ioredis";
import { expect, onTestFinished } from "vitest";
import { waitFor } from "./wait-for";

export interface JobReply {
  status: string;
  fencingToken?: number;
  holder?: string;
}

export interface ScenarioApp {
  /** GET the job route with this query string. */
  call(query: string): Promise<JobReply>;
  /** Everything the app's server has printed so far. */
  output(): string;
  /** A client on the redis-server behind the app (through the Upstash REST fixture). */
  admin: Redis;
}

/** `rounds` rounds of 10 concurrent requests for one key; returns each round's winning token. */
export async function concurrentRounds(app: ScenarioApp, key: string, rounds = 3, workMs = 2500): Promise<number[]> {
  const tokens: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const replies = await Promise.all(Array.from({ length: 10 }, () => app.call(`key=${encodeURIComponent(key)}&workMs=${workMs}`)));
    const count = (status: string) => replies.filter((r) => r.status === status).length;
    expect({ SUCCESS: count("SUCCESS"), SOMEONE_ELSE_HOLDS_LOCK: count("SOMEONE_ELSE_HOLDS_LOCK") }, `round ${round}: ${JSON.stringify(replies)}`).toEqual({
      SUCCESS: 1,
      SOMEONE_ELSE_HOLDS_LOCK: 9,
    });
    tokens.push(replies.find((r) => r.status === "SUCCESS")!.fencingToken!);
  }
  for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
  return tokens;
}

/**
 * Records how keys end, from Redis's keyspace notifications: "del" (deleted)
 * or "expired" (left to their TTL), by key.
 */
export async function watchKeyEnds(admin: Redis): Promise<Map<string, string>> {
  await admin.config("SET", "notify-keyspace-events", "Egx");
  const sub = admin.duplicate();
  const ends = new Map<string, string>();
  sub.on("pmessage", (_pattern: string, channel: string, key: string) => ends.set(key, channel.slice(channel.lastIndexOf(":") + 1)));
  await sub.psubscribe("__keyevent@0__:del", "__keyevent@0__:expired");
  onTestFinished(() => {
    sub.disconnect();
    void admin.config("SET", "notify-keyspace-events", "").catch(() => {});
  });
  return ends;
}

/**
 * A job answered with STARTED before it ends keeps its lock past the response
 * (others are refused meanwhile, longer than reportTtlMs), completes, and
 * deletes its lock: released, not expired.
 */
export async function backgroundJob(app: ScenarioApp, key: string, workMs = 4000): Promise<void> {
  const ends = await watchKeyEnds(app.admin);
  const lockKey = `pl:{${key}}`;
  expect((await app.call(`key=${encodeURIComponent(key)}&workMs=${workMs}&background=1`)).status).toBe("STARTED");
  await waitFor("the background job to hold its lock", () => app.admin.exists(lockKey));
  expect((await app.call(`key=${encodeURIComponent(key)}`)).status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
  // Past reportTtlMs (3 s) of the examples: only the liveness writes of the background job keep its lock.
  await new Promise((r) => setTimeout(r, 3_200));
  expect((await app.call(`key=${encodeURIComponent(key)}`)).status).toBe("SOMEONE_ELSE_HOLDS_LOCK");
  const done = new RegExp(`job done: \\S+ ${escapeRegExp(key)} \\d+`);
  await waitFor(`"job done" for ${key} in the app's output`, () => done.test(app.output()), { timeoutMs: 30_000 });
  expect(await waitFor("the lock's end", () => ends.get(lockKey), { timeoutMs: 15_000 })).toBe("del");
}

/** No key left in Redis: locks released, liveness records deleted or expired. */
export async function noKeysLeft(admin: Redis, timeoutMs = 15_000): Promise<void> {
  await waitFor("an empty Redis", async () => (await admin.dbsize()) === 0 || undefined, { timeoutMs }).catch(async (error) => {
    throw new Error(`${(error as Error).message}; keys: ${JSON.stringify(await admin.keys("*"))}`);
  });
}

/** Fails on what workerd prints when one request waits on another's I/O. */
export function expectNoCrossRequestTrouble(output: string): void {
  expect(output).not.toMatch(/different request context|code had hung|Cannot perform I\/O on behalf of a different request/i);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
