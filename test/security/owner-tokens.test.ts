import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { randomHex } from "../../src/timers";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/**
 * SECURITY.md, "Owner tokens are unguessable": the process hash, which every
 * owner hash and every compare-and-set carries, is 128 bits from the
 * runtime's CSPRNG (crypto.getRandomValues), never Math.random or a pid.
 */
const src = (file: string) => readFileSync(fileURLToPath(new URL(`../../src/${file}`, import.meta.url)), "utf8");

it("process hashes come from crypto.getRandomValues, 16 bytes", () => {
  const timers = src("timers.ts");
  const body = timers.slice(timers.indexOf("export function randomHex"));
  expect(body.slice(0, body.indexOf("\n}"))).toContain("globalThis.crypto.getRandomValues(buf)");
  expect(src("process-identity.ts")).toMatch(/processHash: randomHex\(16\)/);
});

it("random hex is 128-bit, never repeats, and its digits are evenly spread", () => {
  const values = Array.from({ length: 20_000 }, () => randomHex(16));
  expect(values.every((v) => /^[0-9a-f]{32}$/.test(v))).toBe(true);
  expect(new Set(values).size).toBe(values.length);
  const counts = new Map<string, number>();
  for (const v of values) for (const c of v) counts.set(c, (counts.get(c) ?? 0) + 1);
  const expected = (values.length * 32) / 16;
  const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
  expect(counts.size).toBe(16);
  expect(chiSquare).toBeLessThan(60); // 15 degrees of freedom: p < 1e-6 above about 50
});

let server: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.close();
});

it("every Locker gets its own 128-bit process hash, which every owner hash carries", async () => {
  const lockers = Array.from({ length: 4 }, () => new Locker({ database: new RedisDatabase(new Redis(server.url)) }));
  try {
    const hashes = new Set<string>();
    for (const locker of lockers) {
      const res = await locker.acquire(uniqueKey("owner"));
      expect(res.status).toBe(LockStatus.SUCCESS);
      expect(res.lockData.processHash).toMatch(/^[0-9a-f]{32}$/);
      expect(res.lockData.ownerHash).toContain(`@${res.lockData.processHash}.`);
      hashes.add(res.lockData.processHash);
    }
    expect(hashes.size).toBe(lockers.length);
  } finally {
    await Promise.all(lockers.map((l) => l.terminate()));
  }
});
