// What bounds Redis CPU per uncontended pair at c=64 (a diagnostic for docs/benchmarks.md, as c1-floor.mjs is for c=1):
// on a spawned redis-server, 64 loops of acquire + release on unique keys, in interleaved rounds (medians):
//   pulselock     the Locker as shipped (its ACQUIRE and RELEASE scripts, batched)
//   floor         the same Locker and batches, its scripts swapped for the least any lock needs: per key a
//                 SET NX PX; one MGET, a compare and one DEL per batch (plus the liveness EXISTS and a TIME)
//   no-op         the same again, with scripts that touch no key: what two batched script calls and the socket cost
//   peers         redis-semaphore Mutex and redlock, auto-pipelined (where their Redis CPU is lowest) and not
// Redis CPU is `used_cpu_user + used_cpu_sys` over the measured time, ÷ pairs. If `floor` is not below 0.75× the
// lowest peer, no design that batches Lua scripts can meet that target (issue 19), whatever its scripts do.
// `node bench/redis-cpu-floor.mjs [rounds]` (after `npm run build`).
import { createHash } from "node:crypto";
import { ACQUIRE, RELEASE } from "pulselock/internal";
import { startRedis } from "../test/support/redis-server.mjs";
import { ioredis, closeIoredis } from "./lib/clients.mjs";
import { runFor } from "./lib/loop.mjs";
import { IOREDIS_PEERS } from "./lib/peers.mjs";
import { median } from "./lib/summary.mjs";

const ROUNDS = Number(process.argv[2] ?? 5);
const ROUND_MS = 2000;
const CONCURRENCY = 64;

// The call shapes of src/scripts/acquire.ts and release.ts: acquire KEYS = locks (+ liveness key), ARGV =
// processHash, ttl, "1" or "", then one argument per lock; release KEYS = lock and flag per lock, ARGV = mode,
// processHash, seq per lock. The floor's record is the lock's argument (a short-form tail, "seq|trace").
const FLOOR = {
  acquire: `if ARGV[3] == '1' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-2} end
local t = redis.call('TIME')
local r = {t[1] * 1000000 + t[2]}
for i = 1, #ARGV - 3 do
  redis.call('SET', KEYS[i], ARGV[i + 3], 'PX', ARGV[2], 'NX')
  r[i + 1] = 1
end
return r`,
  release: `local r, ks, dels = {}, {}, {}
local n = #ARGV - 2
for i = 1, n do ks[i] = KEYS[2 * i - 1] end
local vs = redis.call('MGET', unpack(ks))
for i = 1, n do
  if vs[i] == ARGV[i + 2] .. '|' then dels[#dels + 1] = ks[i] r[i] = 1 else r[i] = -1 end
end
if #dels > 0 then redis.call('DEL', unpack(dels)) end
return r`,
};
const NO_OP = {
  acquire: `local r = {2}
for i = 1, #ARGV - 3 do r[i + 1] = 1 end
return r`,
  release: `local r = {}
for i = 1, #ARGV - 2 do r[i] = 1 end
return r`,
};

const sha1 = (text) => createHash("sha1").update(text).digest("hex");

/** The Locker with its two scripts swapped for `scripts` while it runs (the script objects are shared constants). */
function swapped(scripts) {
  return {
    async setup(url, prefix, options) {
      const saved = [ACQUIRE, RELEASE].map((s) => ({ s, source: s.source, sha: s.sha }));
      for (const [s, source] of [
        [ACQUIRE, scripts.acquire],
        [RELEASE, scripts.release],
      ]) {
        s.source = source;
        s.sha = sha1(source);
      }
      const entry = await IOREDIS_PEERS.pulselock.setup(url, prefix, options);
      return {
        pair: entry.pair,
        async close() {
          await entry.close();
          for (const { s, source, sha } of saved) Object.assign(s, { source, sha });
        },
      };
    },
  };
}

// ioredis's default (auto-pipelining off) for pulselock, which batches its calls itself; both settings for the peers.
const OFF = { enableAutoPipelining: false };
const ON = { enableAutoPipelining: true };
const ENTRIES = {
  pulselock: [IOREDIS_PEERS.pulselock, OFF],
  floor: [swapped(FLOOR), OFF],
  "no-op": [swapped(NO_OP), OFF],
  "redis-semaphore Mutex, auto-pipelined": [IOREDIS_PEERS.semaphore, ON],
  "redis-semaphore Mutex": [IOREDIS_PEERS.semaphore, OFF],
  "redlock, auto-pipelined": [IOREDIS_PEERS.redlock, ON],
  redlock: [IOREDIS_PEERS.redlock, OFF],
};
const PEERS = Object.keys(ENTRIES).slice(3);

const redis = await startRedis();
const admin = ioredis(redis.url);
const cpuOf = (info) => Number(/^used_cpu_user:([\d.]+)/m.exec(info)[1]) + Number(/^used_cpu_sys:([\d.]+)/m.exec(info)[1]);
const results = Object.fromEntries(Object.keys(ENTRIES).map((name) => [name, { rate: [], cpu: [] }]));
try {
  const names = Object.keys(ENTRIES);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated each round, so that no entry always follows the same one.
    for (const name of names.map((_, i) => names[(i + round) % names.length])) {
      const [peer, options] = ENTRIES[name];
      const entry = await peer.setup(redis.url, `f${round}:`, options);
      try {
        const op = (worker, i) => entry.pair(`k${worker}:${i & 1023}`);
        await runFor({ durationMs: 300, concurrency: CONCURRENCY, op });
        const before = cpuOf(await admin.info("cpu"));
        const { ops, ms } = await runFor({ durationMs: ROUND_MS, concurrency: CONCURRENCY, op });
        const after = cpuOf(await admin.info("cpu"));
        results[name].rate.push((ops / ms) * 1000);
        results[name].cpu.push(((after - before) * 1e6) / ops);
      } finally {
        await entry.close();
      }
    }
  }
  const cpu = (name) => median(results[name].cpu);
  for (const name of names) {
    console.log(
      `${name.padEnd(38)} ${Math.round(median(results[name].rate)).toLocaleString("en-US").padStart(7)} pairs/s, Redis CPU ${cpu(name).toFixed(2)} µs/pair  [${results[name].cpu.map((c) => c.toFixed(2)).join(" ")}]`,
    );
  }
  const lowest = PEERS.reduce((a, b) => (cpu(a) <= cpu(b) ? a : b));
  const x = (name) => `${(cpu(name) / cpu(lowest)).toFixed(2)}×`;
  console.log(`lowest peer: ${lowest} (${cpu(lowest).toFixed(2)} µs/pair); the target is ≤ 0.75× of it`);
  console.log(`pulselock ${x("pulselock")}; floor ${x("floor")} (the least a batched-Lua lock can cost); no-op scripts ${x("no-op")}`);
} finally {
  await closeIoredis(admin);
  await redis.close();
}
