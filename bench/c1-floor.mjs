// What bounds c=1 (a diagnostic for docs/benchmarks.md): on a spawned redis-server, one loop of pairs through
// ioredis clients with their defaults, in interleaved 1-second rounds (medians of 5):
//   2 × PING      two round trips that do nothing: the floor of any pair that needs two
//   SET + CAD     SET NX PX and a compare-and-delete script sent straight (what redis-semaphore's Mutex sends)
//   scripts bare  pulselock's ACQUIRE and RELEASE scripts sent straight through ioredis, no Locker around them
//   then each c=1 target's two sides, as bench/run.mjs measures them: locker.acquire() + release() against
//   redis-semaphore's Mutex, a semaphore permit (limit 3) against redis-semaphore's Semaphore, and a 3-key set
//   (acquireAllAndRun) against redlock with 3 resources.
// Every pair makes two round trips, so 2 × PING over a peer's pair is the most any design with two round trips
// per pair can lead that peer by. `node bench/c1-floor.mjs` (after `npm run build`).
import Redis from "ioredis";
import { ACQUIRE, RELEASE, acquireCall, releaseCall } from "pulselock/internal";
import { startRedis } from "../test/support/redis-server.mjs";
import { IOREDIS_PEERS } from "./lib/peers.mjs";
import { PEERS as MULTI_KEY_PEERS } from "./multi-key.mjs";
import { semaphorePeers } from "./semaphore.mjs";
import { median } from "./lib/summary.mjs";

const ROUNDS = 5;
const ROUND_MS = 1000;
const PROCESS_HASH = "0123456789abcdef0123456789abcdef";
const CAD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

const redis = await startRedis();
const client = new Redis(redis.url);
// Auto-pipelining off, as the bare client: ioredis's default, at which the bench counts every entry at c=1.
const DEFAULTS = { enableAutoPipelining: false };
const SEMAPHORES = semaphorePeers(false);
const entries = {};
/** Each c=1 target: ours against the peer the bench judges it by. */
const TARGETS = [
  ["Locker", "redis-semaphore Mutex", 1.1],
  ["pulselock semaphore", "redis-semaphore Semaphore", 1.3],
  ["pulselock 3-key set", "redlock, 3 resources", 1.3],
];
try {
  Object.assign(entries, {
    Locker: await IOREDIS_PEERS.pulselock.setup(redis.url, "f1:", DEFAULTS),
    "redis-semaphore Mutex": await IOREDIS_PEERS.semaphore.setup(redis.url, "f2:", DEFAULTS),
    "pulselock semaphore": await SEMAPHORES["pulselock-semaphore"].setup(redis.url, "f3:", DEFAULTS),
    "redis-semaphore Semaphore": await SEMAPHORES["redis-semaphore"].setup(redis.url, "f4:", DEFAULTS),
    "pulselock 3-key set": await MULTI_KEY_PEERS.pulselock.setup(redis.url, "f5:", DEFAULTS),
    "redlock, 3 resources": await MULTI_KEY_PEERS.redlock.setup(redis.url, "f6:", DEFAULTS),
  });
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
    "2 × PING": async () => {
      await client.ping();
      await client.ping();
    },
    Locker: () => entries.Locker.pair("k"),
    "redis-semaphore Mutex": () => entries["redis-semaphore Mutex"].pair("k"),
    "pulselock semaphore": () => entries["pulselock semaphore"].pair("k"),
    "redis-semaphore Semaphore": () => entries["redis-semaphore Semaphore"].pair("k"),
    "pulselock 3-key set": () => entries["pulselock 3-key set"].pair(["a", "b", "c"]),
    "redlock, 3 resources": () => entries["redlock, 3 resources"].pair(["a", "b", "c"]),
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
      `${name.padEnd(26)} ${Math.round(rate(name)).toLocaleString("en-US").padStart(6)} pairs/s, ${median(results[name].cpu).toFixed(1)} µs client CPU/pair`,
    );
  }
  const x = (a, b) => `${(rate(a) / rate(b)).toFixed(2)}×`;
  console.log(`scripts bare / SET + CAD: ${x("scripts bare", "SET + CAD")}; Locker / scripts bare: ${x("Locker", "scripts bare")}`);
  for (const [ours, peer, target] of TARGETS) {
    console.log(
      `${ours} / ${peer}: ${x(ours, peer)} (target ${target}×); 2 × PING / ${peer}: ${x("2 × PING", peer)} (the most any two-round-trip pair can lead by)`,
    );
  }
} finally {
  for (const entry of Object.values(entries)) await entry.close();
  client.disconnect();
  await redis.close();
}
