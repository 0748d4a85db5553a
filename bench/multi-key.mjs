// Uncontended multi-key lock pairs (take a set of 3 keys, release it) per second at concurrency 1 and 64 from
// one process: pulselock's acquireAllAndRun() against redlock 5 with 3 resources and redis-semaphore, each
// with ioredis auto-pipelining off and on (the better setting counts for each). redis-semaphore 5.8.0 (the
// latest on npm) has no MultiMutex (its MultiSemaphore takes several permits of one key), so its entry is
// what its users write for several keys: one Mutex per key, taken in sorted order, released together.
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import RedlockV5 from "redlock";
import { Mutex } from "redis-semaphore";
import { CLIENT_SETTINGS } from "./lib/clients.mjs";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { runFor } from "./lib/loop.mjs";
import { warmLocker } from "./lib/peers.mjs";
import { median } from "./lib/summary.mjs";

export const MULTI_KEY_TARGET = 1.3;
const KEYS_PER_SET = 3;
const CONCURRENCIES = [1, 64];
/** How long a lock is held at most when its holder forgets it; the same for every library (as in lib/peers.mjs). */
const LEASE_MS = 30_000;

export const PEERS = {
  pulselock: {
    label: "pulselock acquireAllAndRun",
    ours: true,
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      const locker = new Locker({ database: new RedisDatabase(client) });
      await warmLocker(locker);
      const noop = () => {};
      return {
        async pair(keys) {
          const res = await locker.acquireAllAndRun(keys, noop);
          if (res.status !== LockStatus.SUCCESS) throw new Error(`pulselock: ${res.key} was held`);
        },
        async close() {
          await locker.terminate();
          await closeIoredis(client);
        },
      };
    },
  },
  redlock: {
    label: "redlock 5, 3 resources (1 instance)",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      const redlock = new RedlockV5([client], { retryCount: 0 });
      return {
        async pair(keys) {
          const lock = await redlock.acquire(keys, LEASE_MS);
          await lock.release();
        },
        close: () => closeIoredis(client),
      };
    },
  },
  "redis-semaphore": {
    label: "redis-semaphore, a Mutex per key",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      return {
        async pair(keys) {
          // Sorted, one after the other (a user's way to avoid deadlock); its refresh timers are part of what a user gets.
          const mutexes = [...keys].sort().map((key) => new Mutex(client, key, { lockTimeout: LEASE_MS, acquireAttemptsLimit: 1 }));
          for (const mutex of mutexes) await mutex.acquire();
          await Promise.all(mutexes.map((mutex) => mutex.release()));
        },
        close: () => closeIoredis(client),
      };
    },
  },
};

/** Round r starts r places further down the list, so that no entry always follows the same one. */
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

/**
 * Resolves with `{ keysPerSet, target, peers: { [name]: { label, ours, settings: { [setting]: { [c]: { pairsPerSec, rounds } } } } },
 * best: { [c]: { ours: {name, setting, pairsPerSec}, peer: {…}, ratio, ok } } }`; each figure is the median of the rounds.
 */
export async function measureMultiKey({ redis, admin, roundMs, warmupMs, rounds, log }) {
  const entries = [];
  for (const [name, peer] of Object.entries(PEERS))
    for (const [setting, s] of Object.entries(CLIENT_SETTINGS))
      for (const concurrency of CONCURRENCIES) entries.push({ name, peer, setting, options: s.ioredis, concurrency, runs: [] });
  for (let round = 0; round < rounds; round++) {
    for (const e of rotate(entries, Math.round((round * entries.length) / rounds))) {
      await admin.flushall();
      const lib = await e.peer.setup(redis.url, `m:${e.name}:${e.setting}:${e.concurrency}:`, e.options);
      // Each loop reuses its own set: uncontended, and the key space stays small.
      const sets = Array.from({ length: e.concurrency }, (_, w) => Array.from({ length: KEYS_PER_SET }, (_, k) => `s${w}:${k}`));
      const op = (worker) => lib.pair(sets[worker]);
      try {
        await runFor({ durationMs: warmupMs, concurrency: e.concurrency, op });
        const { ops, ms, errors, firstError } = await runFor({ durationMs: roundMs, concurrency: e.concurrency, op });
        if (errors > 0) console.error(`  ${e.peer.label}: ${errors} failed pairs (${firstError?.message})`);
        e.runs.push((ops / ms) * 1000);
        log(
          `  ${rounds > 1 ? `[${round + 1}/${rounds}] ` : ""}${e.peer.label}, ${CLIENT_SETTINGS[e.setting].label}, c=${e.concurrency}: ${Math.round((ops / ms) * 1000)} pairs/s`,
        );
      } finally {
        await lib.close();
      }
    }
  }
  const peers = {};
  for (const e of entries) {
    const p = (peers[e.name] ??= { label: e.peer.label, ours: !!e.peer.ours, settings: {} });
    (p.settings[e.setting] ??= {})[e.concurrency] = { pairsPerSec: median(e.runs), rounds: e.runs };
  }
  const best = {};
  for (const c of CONCURRENCIES) {
    const pick = (ours) => {
      let top;
      for (const [name, p] of Object.entries(peers)) {
        if (p.ours !== ours) continue;
        for (const [setting, byC] of Object.entries(p.settings))
          if (!top || byC[c].pairsPerSec > top.pairsPerSec) top = { name, label: p.label, setting, pairsPerSec: byC[c].pairsPerSec };
      }
      return top;
    };
    const [ours, peer] = [pick(true), pick(false)];
    const ratio = ours.pairsPerSec / peer.pairsPerSec;
    best[c] = { ours, peer, ratio, ok: ratio >= MULTI_KEY_TARGET };
  }
  return { keysPerSet: KEYS_PER_SET, target: MULTI_KEY_TARGET, peers, best };
}

/** The rows of bench/run.mjs's table: pulselock at its better setting against the best peer at its better one, per concurrency. */
export function multiKeyRows(r) {
  const int = (n) => Math.round(n).toLocaleString("en-US");
  const side = (x) => `${x.label}, ${CLIENT_SETTINGS[x.setting].label}`;
  return Object.entries(r.best).map(([c, b]) => ({
    what: `c=${c} multi-key (${r.keysPerSet} keys) pairs/s: ${side(b.ours)} vs best peer: ${side(b.peer)}`,
    figure: `${int(b.ours.pairsPerSec)} / ${int(b.peer.pairsPerSec)}`,
    target: `≥ ${r.target}×`,
    ratio: `${b.ratio.toFixed(2)}×`,
    verdict: b.ok ? "PASS" : "MISS",
  }));
}
