// What bounds c=1 (a diagnostic for docs/benchmarks.md): on a spawned redis-server, one loop of acquire+release
// pairs through one ioredis client, in interleaved 1-second rounds (medians of 5):
//   scripts bare  pulselock's ACQUIRE and RELEASE scripts sent straight through ioredis, no Locker around them
//   SET + CAD     SET NX PX and a compare-and-delete script sent straight (what redis-semaphore's Mutex sends)
//   Locker        locker.acquire() + locker.release() (bench/lib/peers.mjs), the figure the c=1 target judges
//   2 × PING      two round trips that do nothing: the floor of any pair that needs two
// Both bare rows make the same two round trips; their ratio is what the scripts' own work costs at one caller,
// before any of the Locker's. `node bench/c1-floor.mjs` (after `npm run build`).
import Redis from "ioredis";
import { ACQUIRE, RELEASE, acquireCall, releaseCall } from "pulselock/internal";
import { startRedis } from "../test/support/redis-server.mjs";
import { IOREDIS_PEERS } from "./lib/peers.mjs";
import { median } from "./lib/summary.mjs";

const ROUNDS = 5;
const ROUND_MS = 1000;
const PROCESS_HASH = "0123456789abcdef0123456789abcdef";
const CAD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

const redis = await startRedis();
const client = new Redis(redis.url);
// Auto-pipelining off, as the bare client: ioredis's default, at which the bench counts pulselock.
const locker = await IOREDIS_PEERS.pulselock.setup(redis.url, "floor:", { enableAutoPipelining: false });
try {
  const livenessKey = `pl:p:${PROCESS_HASH}`;
  await client.set(livenessKey, "bench");
  for (const s of [ACQUIRE, RELEASE]) await client.script("LOAD", s.source);
  const cad = await client.script("LOAD", CAD);
  let seq = 0;
  const pairs = {
    "scripts bare": async () => {
      const lock = { key: "k", redisKey: "pl:k", processHash: PROCESS_HASH, seq: String(++seq), trace: undefined, waitFlagMs: "" };
      const a = acquireCall([lock], "30000", livenessKey);
      await client.evalsha(ACQUIRE.sha, a.keys.length, ...a.keys, ...a.args);
      const r = releaseCall([{ ...lock, owner: { processHash: PROCESS_HASH, seq: lock.seq } }], "0");
      const [released] = await client.evalsha(RELEASE.sha, r.keys.length, ...r.keys, ...r.args);
      if (released !== 1) throw new Error(`the bare release answered ${released}`);
    },
    "SET + CAD": async () => {
      const id = String(++seq);
      await client.set("m:k", id, "PX", 30000, "NX");
      if ((await client.evalsha(cad, 1, "m:k", id)) !== 1) throw new Error("the compare-and-delete found another owner");
    },
    Locker: () => locker.pair("k"),
    "2 × PING": async () => {
      await client.ping();
      await client.ping();
    },
  };
  const results = Object.fromEntries(Object.keys(pairs).map((name) => [name, { rate: [], cpu: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, pair] of Object.entries(pairs)) {
      for (let i = 0; i < 200; i++) await pair();
      const cpu = process.cpuUsage();
      const start = performance.now();
      let n = 0;
      while (performance.now() - start < ROUND_MS) {
        await pair();
        n++;
      }
      const used = process.cpuUsage(cpu);
      results[name].rate.push((n / (performance.now() - start)) * 1000);
      results[name].cpu.push((used.user + used.system) / n);
    }
  }
  const rate = (name) => median(results[name].rate);
  for (const name of Object.keys(pairs)) {
    console.log(
      `${name.padEnd(12)} ${Math.round(rate(name)).toLocaleString("en-US").padStart(6)} pairs/s, ${median(results[name].cpu).toFixed(1)} µs client CPU/pair`,
    );
  }
  console.log(
    `scripts bare / SET + CAD: ${(rate("scripts bare") / rate("SET + CAD")).toFixed(2)}×; Locker / scripts bare: ${(rate("Locker") / rate("scripts bare")).toFixed(2)}×; ` +
      `2 × PING / SET + CAD: ${(rate("2 × PING") / rate("SET + CAD")).toFixed(2)}× (the most any two-round-trip pair can lead by)`,
  );
} finally {
  await locker.close();
  client.disconnect();
  await redis.close();
}
