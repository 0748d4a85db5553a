// Uncontended acquire+release pairs per second at concurrency 1 and 64 from
// one process, for pulselock and the libraries a user would pick instead,
// with the server-side commands per pair (client commands + commands in Lua).
import { IOREDIS_PEERS, UPSTASH_PEERS } from "./lib/peers.mjs";
import { runFor } from "./lib/loop.mjs";
import { commandCalls, describeCalls, resetStats, serverCpuSeconds, totalCalls } from "./lib/redis-stats.mjs";

export const CONCURRENCIES = [1, 64];

async function measureOne({ peer, target, prefix, admin, concurrency, durationMs, warmupMs }) {
  const lib = await peer.setup(target, prefix);
  // Each loop reuses its own key: uncontended, and the key space stays small.
  const op = (worker) => lib.pair(`k${worker}`);
  try {
    await runFor({ durationMs: warmupMs, concurrency, op });
    await resetStats(admin);
    const cpu = process.cpuUsage();
    const serverCpu = await serverCpuSeconds(admin);
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

/**
 * Resolves with { [peerName]: { label, transport, byConcurrency: { 1: {...}, 64: {...} } } }.
 * With rounds > 1 the peers take turns (round 1: every peer, then round 2, …) and each keeps its
 * median round by pairs/s, so that a burst of load from elsewhere does not land on one peer only.
 */
export async function measureUncontended({ redis, admin, rest, roundMs, warmupMs, rounds, only, log }) {
  const runs = {};
  const results = {};
  const groups = [
    { peers: IOREDIS_PEERS, target: redis.url, transport: "ioredis" },
    { peers: UPSTASH_PEERS, target: rest, transport: "upstash" },
  ];
  for (let round = 1; round <= rounds; round++) {
    for (const { peers, target, transport } of groups) {
      for (const [name, peer] of Object.entries(peers)) {
        if (only && !only.includes(name)) continue;
        results[name] ??= { label: peer.label, transport, byConcurrency: {} };
        for (const concurrency of CONCURRENCIES) {
          await admin.flushall();
          const r = await measureOne({ peer, target, prefix: `u:${name}:${concurrency}:`, admin, concurrency, durationMs: roundMs, warmupMs });
          ((runs[name] ??= {})[concurrency] ??= []).push(r);
          log(
            `  ${rounds > 1 ? `[${round}/${rounds}] ` : ""}${peer.label} c=${concurrency}: ${Math.round(r.pairsPerSec)} pairs/s, ` +
              `${r.commandsPerPair.toFixed(2)} cmds/pair, ${r.cpuUsPerPair.toFixed(0)} µs client CPU/pair, ` +
              `${r.serverUsPerPair.toFixed(0)} µs Redis CPU/pair (${r.breakdown})`,
          );
        }
      }
    }
  }
  for (const [name, byConcurrency] of Object.entries(runs)) {
    for (const [concurrency, list] of Object.entries(byConcurrency)) {
      const sorted = [...list].sort((a, b) => a.pairsPerSec - b.pairsPerSec);
      results[name].byConcurrency[concurrency] = { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: list.map((r) => r.pairsPerSec) };
    }
  }
  return results;
}
