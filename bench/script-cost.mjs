// Redis time per lock inside pulselock's acquire and release scripts, for a
// lone lock and for a batch of 64, next to a plain SET NX PX and a
// compare-and-delete script (what redis-semaphore's Mutex sends). Counted by
// INFO commandstats on a spawned redis-server, median of interleaved rounds:
// script time, not the socket and parsing work around it.
// `node bench/script-cost.mjs` (after `npm run build`).
import Redis from "ioredis";
import { ACQUIRE, RELEASE, acquireCall, releaseCall } from "pulselock/internal";
import { startRedis } from "../test/support/redis-server.mjs";

const ROUNDS = 5;
const PROCESS_HASH = "0123456789abcdef0123456789abcdef";
const CAD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

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
  for (const batch of [1, 64]) {
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
} finally {
  client.disconnect();
  await redis.stop();
}
