// Uncontended acquire+release pairs per second at concurrency 1 and 64 from
// one process, for pulselock and the libraries a user would pick instead, each
// with its client's auto-pipelining off and on, with the server-side commands
// per pair (client commands + commands in Lua) and the CPU both sides spent.
import { CLIENT_SETTINGS, DEFAULT_SETTING } from "./lib/clients.mjs";
import { IOREDIS_PEERS, UPSTASH_PEERS } from "./lib/peers.mjs";
import { runFor } from "./lib/loop.mjs";
import { commandCalls, describeCalls, resetStats, serverCpuSeconds, totalCalls } from "./lib/redis-stats.mjs";
import { summarizeRounds } from "./lib/summary.mjs";

export const CONCURRENCIES = [1, 64];

async function measureOne({ peer, target, prefix, clientOptions, admin, concurrency, durationMs, warmupMs }) {
  const lib = await peer.setup(target, prefix, clientOptions);
  // Each loop reuses its own key: uncontended, and the key space stays small.
  const op = (worker) => lib.pair(`k${worker}`);
  try {
    await runFor({ durationMs: warmupMs, concurrency, op });
    await resetStats(admin);
    const serverCpu = await serverCpuSeconds(admin);
    const cpu = process.cpuUsage();
    const { ops, ms, errors, firstError } = await runFor({ durationMs, concurrency, op });
    const { user, system } = process.cpuUsage(cpu);
    const serverUsPerPair = (((await serverCpuSeconds(admin)) - serverCpu) * 1e6) / ops;
    const calls = await commandCalls(admin);
    if (errors > 0) console.error(`  ${peer.label}: ${errors} failed pairs (${firstError?.message})`);
    return {
      pairsPerSec: (ops / ms) * 1000,
      commandsPerPair: totalCalls(calls) / ops,
      cpuUsPerPair: (user + system) / ops,
      serverUsPerPair,
      breakdown: describeCalls(calls, ops),
      errors,
    };
  } finally {
    await lib.close();
  }
}

/** Round r starts r places further down the list, so that no entry always follows the same one. */
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

/**
 * Resolves with `{ [peerName]: { label, transport, ours, defaultSetting, settings: { [setting]: { 1: summary, 64: summary } } } }`
 * (summary: lib/summary.mjs). Every (peer, setting, concurrency) is one entry; in each round every entry
 * runs once, in an order rotated by the round, so that a burst of load from elsewhere does not land on one
 * peer only; each figure is the median of the rounds.
 */
export function measureUncontended({ redis, rest, ...ctx }) {
  return measurePeerGroups({
    ...ctx,
    groups: [
      { peers: IOREDIS_PEERS, target: redis.url, transport: "ioredis" },
      { peers: UPSTASH_PEERS, target: rest, transport: "upstash" },
    ],
  });
}

/** {@link measureUncontended} over any `groups` of peers ({ peers, target, transport }), e.g. bench/semaphore.mjs's. */
export async function measurePeerGroups({ groups, admin, roundMs, warmupMs, rounds, only, log, prefix = "u" }) {
  const entries = [];
  const results = {};
  for (const { peers, target, transport } of groups) {
    for (const [name, peer] of Object.entries(peers)) {
      if (only && !only.includes(name)) continue;
      results[name] = { label: peer.label, transport, ours: name.startsWith("pulselock"), defaultSetting: DEFAULT_SETTING[transport], settings: {} };
      for (const [setting, s] of Object.entries(CLIENT_SETTINGS))
        for (const concurrency of CONCURRENCIES) entries.push({ name, peer, target, setting, clientOptions: s[transport], concurrency, runs: [] });
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const e of rotate(entries, Math.round((round * entries.length) / rounds))) {
      await admin.flushall();
      const r = await measureOne({ ...e, prefix: `${prefix}:${e.name}:${e.setting}:${e.concurrency}:`, admin, durationMs: roundMs, warmupMs });
      e.runs.push(r);
      log(
        `  ${rounds > 1 ? `[${round + 1}/${rounds}] ` : ""}${e.peer.label}, ${CLIENT_SETTINGS[e.setting].label}, c=${e.concurrency}: ${Math.round(r.pairsPerSec)} pairs/s, ` +
          `${r.commandsPerPair.toFixed(2)} cmds/pair, ${r.cpuUsPerPair.toFixed(1)} µs client CPU/pair, ${r.serverUsPerPair.toFixed(1)} µs Redis CPU/pair`,
      );
    }
  }
  for (const e of entries) (results[e.name].settings[e.setting] ??= {})[e.concurrency] = summarizeRounds(e.runs);
  return results;
}
