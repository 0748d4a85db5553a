// Redis time per lock inside pulselock's acquire and release scripts, for a
// lone lock and for a batch of 64, next to a plain SET NX PX and a
// compare-and-delete script (what redis-semaphore's Mutex sends); then per
// permit inside the semaphore's acquire and release scripts, next to
// redis-semaphore's Semaphore (its acquire script and a ZREM). Counted by
// INFO commandstats on a spawned redis-server, median of interleaved rounds:
// script time, not the socket and parsing work around it.
// `node bench/script-cost.mjs [lock|semaphore]` (after `npm run build`; both when neither is named).
import Redis from "ioredis";
import {
  ACQUIRE,
  RELEASE,
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_RELEASE,
  acquireCall,
  releaseCall,
  semaphoreAcquireCall,
  semaphoreReleaseCall,
} from "pulselock/internal";
import { startRedis } from "../test/support/redis-server.mjs";

const ROUNDS = 5;
const only = process.argv[2];
const PROCESS_HASH = "0123456789abcdef0123456789abcdef";
const CAD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

const OTHER_HASH = "fedcba9876543210fedcba9876543210";
// redis-semaphore 5.8's acquire script (lib/semaphore/acquire/lua.js); its release is a ZREM.
const ZSET_ACQUIRE = `local key = KEYS[1]
local limit = tonumber(ARGV[1])
local identifier = ARGV[2]
local lockTimeout = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local expiredTimestamp = now - lockTimeout
redis.call('zremrangebyscore', key, '-inf', expiredTimestamp)
if redis.call('zcard', key) < limit then
  redis.call('zadd', key, now, identifier)
  redis.call('pexpire', key, lockTimeout)
  return 1
else
  return 0
end`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function usecOf(client, command) {
  const text = await client.info("commandstats");
  return Number(new RegExp(`^cmdstat_${command}:calls=\\d+,usec=(\\d+)`, "m").exec(text)?.[1] ?? 0);
}

const redis = await startRedis();
const client = new Redis(redis.url);
try {
  for (const s of [ACQUIRE, RELEASE]) await client.script("LOAD", s.source);
  const cad = await client.script("LOAD", CAD);
  await client.set(`pl:p:${PROCESS_HASH}`, "bench");
  for (const batch of only === "semaphore" ? [] : [1, 64]) {
    const locks = Array.from({ length: batch }, (_, i) => ({
      redisKey: `k${i}`,
      key: `k${i}`,
      processHash: PROCESS_HASH,
      seq: String(i + 1),
      trace: undefined,
      waitFlagMs: "",
    }));
    const acquire = acquireCall(locks, "300000", `pl:p:${PROCESS_HASH}`);
    const release = releaseCall(
      locks.map((l) => ({ ...l, owner: { processHash: PROCESS_HASH, seq: l.seq } })),
      "1",
    );
    const repeats = Math.round(16_000 / batch);
    const ours = { acquire: [], release: [] };
    const peer = [];
    for (let round = 0; round < ROUNDS; round++) {
      let acquireUs = 0;
      let releaseUs = 0;
      await client.config("RESETSTAT");
      for (let r = 0; r < repeats; r++) {
        const start = await usecOf(client, "evalsha");
        await client.evalsha(ACQUIRE.sha, acquire.keys.length, ...acquire.keys, ...acquire.args);
        const acquired = await usecOf(client, "evalsha");
        const replies = await client.evalsha(RELEASE.sha, release.keys.length, ...release.keys, ...release.args);
        if (replies.some((x) => x !== 1)) throw new Error(`a release failed: ${JSON.stringify(replies)}`);
        acquireUs += acquired - start;
        releaseUs += (await usecOf(client, "evalsha")) - acquired;
      }
      ours.acquire.push(acquireUs / repeats / batch);
      ours.release.push(releaseUs / repeats / batch);
      await client.config("RESETSTAT");
      for (let r = 0; r < repeats; r++)
        for (const { redisKey } of locks) {
          await client.set(redisKey, "owner", "PX", 300000, "NX");
          await client.evalsha(cad, 1, redisKey, "owner");
        }
      peer.push(((await usecOf(client, "set")) + (await usecOf(client, "evalsha"))) / repeats / batch);
    }
    const a = median(ours.acquire);
    const rel = median(ours.release);
    console.log(
      `batch ${String(batch).padStart(2)}: pulselock acquire ${a.toFixed(2)} + release ${rel.toFixed(2)} = ${(a + rel).toFixed(2)} µs per lock; ` +
        `SET NX PX + compare-and-delete script ${median(peer).toFixed(2)} µs (always one lock per command)`,
    );
  }

  // The semaphore: per scenario, `permits` taken in one SEMAPHORE_ACQUIRE and given back in one SEMAPHORE_RELEASE,
  // on a hash that others already hold `others` permits of.
  for (const s of [SEMAPHORE_ACQUIRE, SEMAPHORE_RELEASE]) await client.script("LOAD", s.source);
  const zsetAcquire = await client.script("LOAD", ZSET_ACQUIRE);
  const scenarios =
    only === "lock"
      ? []
      : [
          { what: "1 permit, a key of its own (limit 3)", permits: 1, shared: false, limit: 3, others: 0 },
          { what: "64 permits, a key each (limit 3)", permits: 64, shared: false, limit: 3, others: 0 },
          { what: "64 permits of one key (limit 64)", permits: 64, shared: true, limit: 64, others: 0 },
          { what: "1 permit of a key 62 others hold (limit 64)", permits: 1, shared: true, limit: 64, others: 62 },
        ];
  for (const sc of scenarios) {
    const requests = Array.from({ length: sc.permits }, (_, i) => ({
      redisKey: sc.shared ? "sem" : `sem${i}`,
      owner: { key: "sem", processHash: PROCESS_HASH, seq: String(i + 1), trace: undefined },
      limit: sc.limit,
      waitFlagMs: "",
      victims: [],
    }));
    const acquire = semaphoreAcquireCall(requests, 300000, `pl:p:${PROCESS_HASH}`);
    const release = semaphoreReleaseCall(
      requests.map((r) => ({ redisKey: r.redisKey, field: `${PROCESS_HASH}|${r.owner.seq}` })),
      "1",
    );
    if (sc.others > 0) {
      const held = Array.from({ length: sc.others }, (_, i) => ({
        ...requests[0],
        owner: { ...requests[0].owner, processHash: OTHER_HASH, seq: String(i + 1) },
      }));
      const fill = semaphoreAcquireCall(held, 300000, undefined);
      await client.evalsha(SEMAPHORE_ACQUIRE.sha, fill.keys.length, ...fill.keys, ...fill.args);
      for (let i = 0; i < sc.others; i++) await client.zadd("zsem", Date.now(), `other${i}`);
      await client.pexpire("zsem", 300000);
    }
    const repeats = Math.round(16_000 / sc.permits);
    const ours = { acquire: [], release: [] };
    const peer = [];
    for (let round = 0; round < ROUNDS; round++) {
      let acquireUs = 0;
      let releaseUs = 0;
      await client.config("RESETSTAT");
      for (let r = 0; r < repeats; r++) {
        const start = await usecOf(client, "evalsha");
        const taken = await client.evalsha(SEMAPHORE_ACQUIRE.sha, acquire.keys.length, ...acquire.keys, ...acquire.args);
        const acquired = await usecOf(client, "evalsha");
        // Flat: TIME, then per permit 1 or its token (taken); anything else (a table) was refused.
        if (taken.length !== sc.permits + 1 || taken.some((x) => typeof x !== "number")) throw new Error(`an acquire was refused: ${JSON.stringify(taken)}`);
        const replies = await client.evalsha(SEMAPHORE_RELEASE.sha, release.keys.length, ...release.keys, ...release.args);
        if (replies.some((x) => x !== 1)) throw new Error(`a release failed: ${JSON.stringify(replies)}`);
        acquireUs += acquired - start;
        releaseUs += (await usecOf(client, "evalsha")) - acquired;
      }
      ours.acquire.push(acquireUs / repeats / sc.permits);
      ours.release.push(releaseUs / repeats / sc.permits);
      await client.config("RESETSTAT");
      for (let r = 0; r < repeats; r++)
        for (const { redisKey } of requests) {
          const z = `z${redisKey}`;
          if ((await client.evalsha(zsetAcquire, 1, z, sc.limit, `me${r}`, 300000, Date.now())) !== 1) throw new Error("redis-semaphore refused");
          await client.zrem(z, `me${r}`);
        }
      peer.push(((await usecOf(client, "evalsha")) + (await usecOf(client, "zrem"))) / repeats / sc.permits);
    }
    await client.del("sem", "zsem");
    const a = median(ours.acquire);
    const rel = median(ours.release);
    console.log(
      `semaphore, ${sc.what}: pulselock acquire ${a.toFixed(2)} + release ${rel.toFixed(2)} = ${(a + rel).toFixed(2)} µs per permit; ` +
        `redis-semaphore acquire script + ZREM ${median(peer).toFixed(2)} µs (always one permit per command)`,
    );
  }
} finally {
  client.disconnect();
  await redis.stop();
}
