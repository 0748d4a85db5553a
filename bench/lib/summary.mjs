// The pure part of the uncontended comparison: medians over rounds, each
// peer's better client setting, and the ratios the targets are judged on.
// No I/O, so test/build/bench-summary.test.ts can check it with made-up rounds.

/** The targets of issue 19, as ratios pulselock ÷ peer. */
export const TARGETS = Object.freeze({ pairsC64: 1.5, pairsC1: 1.1, redisCpu: 0.75, upstashPairs: 1.5, requestsPerJob: 2 });

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * One figure per metric from a peer's rounds at one setting and concurrency: each metric is its own
 * median (a round slowed by load elsewhere does not pick the CPU figures); the command breakdown is the
 * median round's by pairs/s; failed pairs are summed.
 */
export function summarizeRounds(rounds) {
  const of = (k) => median(rounds.map((r) => r[k]));
  const byPairs = [...rounds].sort((a, b) => a.pairsPerSec - b.pairsPerSec);
  return {
    pairsPerSec: of("pairsPerSec"),
    commandsPerPair: of("commandsPerPair"),
    cpuUsPerPair: of("cpuUsPerPair"),
    serverUsPerPair: of("serverUsPerPair"),
    rounds: rounds.map((r) => r.pairsPerSec),
    breakdown: byPairs[(byPairs.length - 1) >> 1].breakdown,
    errors: rounds.reduce((n, r) => n + (r.errors ?? 0), 0),
  };
}

/** A peer's better setting at concurrency c: the one with more pairs/s. Resolves with { setting, m }. */
export function bestSetting(entry, c) {
  let best;
  for (const [setting, byC] of Object.entries(entry.settings)) {
    const m = byC[c];
    if (m && (!best || m.pairsPerSec > best.m.pairsPerSec)) best = { setting, m };
  }
  return best;
}

/** Every (peer, setting) measured at c on one transport, pulselock's rows left out. */
function peerRows(results, transport, c) {
  const rows = [];
  for (const [name, e] of Object.entries(results)) {
    if (e.ours || e.transport !== transport) continue;
    for (const [setting, byC] of Object.entries(e.settings)) if (byC[c]) rows.push({ name, label: e.label, setting, m: byC[c] });
  }
  return rows;
}

const pick = (rows, better) => rows.reduce((a, b) => (a && !better(b.m, a.m) ? a : b), undefined);

/**
 * The comparisons the targets are judged on, from
 * `{ [name]: { label, transport, ours, defaultSetting, settings: { [setting]: { [c]: summary } } } }`.
 * pulselock counts at its default setting (`ourName` on each transport); each peer at its better one;
 * "the best peer" is the peer row with the most pairs/s, "the lowest peer" the row (any setting) with
 * the least Redis CPU per pair. A comparison is left out when either side was not measured.
 */
export function comparisons(results, { ioredis = "pulselock", upstash = "pulselock-upstash" } = {}) {
  const out = [];
  const oursAt = (name, c) => {
    const e = results[name];
    return e && e.settings[e.defaultSetting]?.[c] ? { name, label: e.label, setting: e.defaultSetting, m: e.settings[e.defaultSetting][c] } : undefined;
  };
  const faster = (a, b) => a.pairsPerSec > b.pairsPerSec;
  const add = (what, c, ours, peer, metric, target, higherIsBetter) => {
    if (!ours || !peer) return;
    const ratio = ours.m[metric] / peer.m[metric];
    // pulselock at its own better setting, shown beside the verdict (which counts its default).
    const better = bestSetting(results[ours.name], c);
    const ratioAtBetter = better && better.setting !== ours.setting ? { setting: better.setting, ratio: better.m[metric] / peer.m[metric] } : undefined;
    out.push({
      what,
      c,
      ours,
      peer,
      metric,
      ratio,
      ratioAtBetter,
      target,
      ok: target === undefined ? undefined : higherIsBetter ? ratio >= target : ratio <= target,
    });
  };
  for (const [c, target] of [
    [64, TARGETS.pairsC64],
    [1, TARGETS.pairsC1],
  ]) {
    add("pairs", c, oursAt(ioredis, c), pick(peerRows(results, "ioredis", c), faster), "pairsPerSec", target, true);
  }
  for (const c of [64, 1]) {
    const rows = peerRows(results, "ioredis", c);
    const lowest = (k) => pick(rows, (a, b) => a[k] < b[k]);
    add("redisCpu", c, oursAt(ioredis, c), lowest("serverUsPerPair"), "serverUsPerPair", c === 64 ? TARGETS.redisCpu : undefined, false);
    add("clientCpu", c, oursAt(ioredis, c), lowest("cpuUsPerPair"), "cpuUsPerPair", undefined, false);
  }
  for (const c of [64, 1]) add("upstashPairs", c, oursAt(upstash, c), pick(peerRows(results, "upstash", c), faster), "pairsPerSec", TARGETS.upstashPairs, true);
  return out;
}
