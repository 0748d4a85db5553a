// Semaphore acquire+release pairs per second at concurrency 1 and 64 from one
// process (issue 20): pulselock's semaphore against redis-semaphore's
// Semaphore, each with ioredis auto-pipelining off and on (the better setting
// counts for the peer; pulselock counts at its client default, as in the
// uncontended phase). Each loop takes a permit of its own semaphore (limit 3)
// and gives it back, so no pair is refused; a second scenario has every loop
// share one semaphore whose limit is the concurrency (64 permits held at once
// at c=64). `npm run bench -- --only=semaphore`.
import { Semaphore } from "redis-semaphore";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { warmLocker } from "./lib/peers.mjs";
import { bestSetting } from "./lib/summary.mjs";
import { measurePeerGroups } from "./uncontended.mjs";

/** The target of issue 20: pulselock's semaphore ÷ the best peer, in pairs/s, at c=1 and c=64. */
export const SEMAPHORE_TARGET = 1.3;
const LEASE_MS = 30_000;
const LIMIT = 3;
const SHARED_LIMIT = 64;

/** `shared`: every loop uses one semaphore key (limit SHARED_LIMIT) instead of its own. */
export function semaphorePeers(shared) {
  const keyOf = (key) => (shared ? "shared" : key);
  const limit = shared ? SHARED_LIMIT : LIMIT;
  const suffix = shared ? `, one key, limit ${SHARED_LIMIT}` : `, a key per loop, limit ${LIMIT}`;
  return {
    "pulselock-semaphore": {
      label: `pulselock semaphore (ioredis${suffix})`,
      async setup(url, prefix, options) {
        const client = ioredis(url, { ...options, keyPrefix: prefix });
        const locker = new Locker({ database: new RedisDatabase(client) });
        await warmLocker(locker);
        const semaphores = new Map();
        return {
          async pair(key) {
            const k = keyOf(key);
            let sem = semaphores.get(k);
            if (!sem) semaphores.set(k, (sem = locker.semaphore(k, { limit })));
            const res = await sem.acquire();
            if (res.status !== LockStatus.SUCCESS) throw new Error(`pulselock: ${k} was full`);
            await sem.release(res.lockData);
          },
          async close() {
            await locker.terminate();
            await closeIoredis(client);
          },
        };
      },
    },
    "redis-semaphore": {
      label: `redis-semaphore Semaphore${suffix}`,
      async setup(url, prefix, options) {
        const client = ioredis(url, { ...options, keyPrefix: prefix });
        return {
          async pair(key) {
            // Its defaults otherwise: the refresh timer (every 0.8 × lockTimeout) is part of what a user gets.
            const semaphore = new Semaphore(client, keyOf(key), limit, { lockTimeout: LEASE_MS, acquireAttemptsLimit: 1 });
            await semaphore.acquire();
            await semaphore.release();
          },
          close: () => closeIoredis(client),
        };
      },
    },
  };
}

/** Resolves with { perLoop, shared }: measurePeerGroups() results of each scenario. */
export async function measureSemaphore({ redis, ...ctx }) {
  const out = {};
  for (const [scenario, shared] of [
    ["perLoop", false],
    ["shared", true],
  ]) {
    out[scenario] = await measurePeerGroups({
      ...ctx,
      prefix: `s${scenario}`,
      groups: [{ peers: semaphorePeers(shared), target: redis.url, transport: "ioredis" }],
    });
  }
  return out;
}

const int = (n) => Math.round(n).toLocaleString("en-US");

/** Rows for bench/lib/report.mjs: every measurement, then pulselock (client default) ÷ the best peer setting. */
export function semaphoreRows(results) {
  const rows = [];
  for (const byPeer of Object.values(results)) {
    for (const e of Object.values(byPeer)) {
      for (const [setting, byC] of Object.entries(e.settings)) {
        for (const [c, m] of Object.entries(byC)) {
          rows.push({
            what: `Semaphore, c=${c}, ${e.label}, ${setting}`,
            figure: `${int(m.pairsPerSec)} pairs/s, ${m.serverUsPerPair.toFixed(1)} µs Redis CPU/pair`,
            target: "",
            ratio: "",
            verdict: "",
          });
        }
      }
    }
    const ours = byPeer["pulselock-semaphore"];
    const peer = byPeer["redis-semaphore"];
    for (const c of [1, 64]) {
      const o = ours?.settings[ours.defaultSetting]?.[c];
      const p = peer && bestSetting(peer, c);
      if (!o || !p) continue;
      const ratio = o.pairsPerSec / p.m.pairsPerSec;
      rows.push({
        what: `Semaphore c=${c} pairs/s: ${ours.label} vs ${peer.label} (${p.setting})`,
        figure: `${int(o.pairsPerSec)} / ${int(p.m.pairsPerSec)}`,
        target: `≥ ${SEMAPHORE_TARGET}×`,
        ratio: `${ratio.toFixed(2)}×`,
        verdict: ratio >= SEMAPHORE_TARGET ? "PASS" : "MISS",
      });
    }
  }
  return rows;
}
