// What OpenTelemetry costs a Locker, in acquire+release pairs/s and
// acquireAndRun()s/s (64 in flight): with no instrumentation ("off": the
// option false), with openTelemetry() over the bare API (no SDK registered: the
// API's no-op, which is what a Node process gets by default once the package is
// installed), over a no-op SDK (every span sampled out, a MeterProvider without
// readers), and over an SDK that records every span but exports nothing.
// Two settings: against the bench's redis-server (ioredis, auto-pipelining),
// and over an in-process transport that answers at once (bench/overhead.mjs),
// where the client's CPU is all there is, so any cost shows in full.
// A shared machine's load drifts, so the variants run in many short rounds in
// rotating order, and each variant's cost is the median over rounds of its
// ratio to "off" in the same round: in throughput, and in client CPU per op
// (process.cpuUsage, which other processes' load disturbs less).
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { AlwaysOffSampler, BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { Locker as CoreLocker, RedisDatabase as CoreRedisDatabase } from "pulselock/core";
import { openTelemetry } from "pulselock/opentelemetry";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { runFor } from "./lib/loop.mjs";
import { alwaysOnPlatform, instantTransport } from "./overhead.mjs";

const CONCURRENCY = 64;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const VARIANTS = {
  off: () => false,
  // The API's no-op providers (NoopTracerProvider, NoopMeterProvider: no SDK registered), which is what a Node
  // process gets by default once @opentelemetry/api is installed. The < 3 % target is judged here.
  "no-op": () => openTelemetry(),
  // An SDK that keeps nothing: every span sampled out (the SDK still makes a non-recording span), no metric reader.
  "SDK sampled out": () => openTelemetry({ meterProvider: new MeterProvider(), tracerProvider: new BasicTracerProvider({ sampler: new AlwaysOffSampler() }) }),
  // An SDK that records every span (not exported): what tracing each run costs. No target: that is the SDK's work.
  "SDK recording": () => openTelemetry({ meterProvider: new MeterProvider(), tracerProvider: new BasicTracerProvider() }),
};
const NAMES = Object.keys(VARIANTS);

const pairs = (locker) => async (w) => {
  const res = await locker.acquire(`k${w}`);
  if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
  await locker.release(`k${w}`, res.lockData);
};
const job = () => {};
const runs = (locker) => async (w) => {
  const res = await locker.acquireAndRun(`r${w}`, job);
  if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
};

/** Interleaved rounds of `op` on each variant's Locker; per variant: median ops/s and median cost (%) against "off". */
async function compare(lockers, op, { rounds, roundMs, warmupMs }) {
  for (const name of NAMES) await runFor({ durationMs: warmupMs, concurrency: CONCURRENCY, op: op(lockers[name]) });
  const perSec = Object.fromEntries(NAMES.map((n) => [n, []]));
  const cpuUs = Object.fromEntries(NAMES.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < NAMES.length; i++) {
      const name = NAMES[(r + i) % NAMES.length];
      const cpu = process.cpuUsage();
      const { ops, ms, errors, firstError } = await runFor({ durationMs: roundMs, concurrency: CONCURRENCY, op: op(lockers[name]) });
      const { user, system } = process.cpuUsage(cpu);
      if (errors) throw firstError;
      perSec[name].push((ops / ms) * 1000);
      cpuUs[name].push((user + system) / ops);
    }
  }
  const paired = (xs, ys, f) => median(xs.map((x, r) => f(x, ys[r])));
  return Object.fromEntries(
    NAMES.map((n) => [
      n,
      {
        median: median(perSec[n]),
        rounds: perSec[n],
        costPct: paired(perSec[n], perSec.off, (x, off) => (1 - x / off) * 100),
        cpuUsPerOp: median(cpuUs[n]),
        cpuCostPct: paired(cpuUs[n], cpuUs.off, (x, off) => (x / off - 1) * 100),
      },
    ]),
  );
}

export async function measureOtelOverhead({ redis, quick, warmupMs, log }) {
  // 25 rounds of 600 ms: c=64 throughput on a shared 2-core VM swings by ±20 % from one 400 ms window to the next
  // (two batches in flight drift in and out of step), and 15 rounds of 400 ms let a 3 % cost read anywhere from −2 to +6 %.
  const settings = { rounds: quick ? 5 : 25, roundMs: quick ? 200 : 600, warmupMs };
  const clients = [];
  const lockers = { redis: {}, instant: {} };
  NAMES.forEach((name, i) => {
    const client = ioredis(redis.url);
    clients.push(client);
    lockers.redis[name] = new Locker({ database: new RedisDatabase(client, { prefix: `otel-bench-${i}:` }), instrumentation: VARIANTS[name]() });
    // Long liveness timings: its paced in-thread liveness rewrites only from holders' timers, which instant jobs never let fire.
    lockers.instant[name] = new CoreLocker(
      { database: new CoreRedisDatabase(instantTransport()), instrumentation: VARIANTS[name](), reportWriteMs: 60_000, reportTtlMs: 3_600_000 },
      alwaysOnPlatform,
    );
  });
  const result = {};
  try {
    for (const [where, label] of [
      ["redis", "redis-server"],
      ["instant", "in-process transport"],
    ]) {
      for (const [what, op] of [
        ["pairs", pairs],
        ["runs", runs],
      ]) {
        const r = (result[`${where}-${what}`] = await compare(lockers[where], op, settings));
        const cost = (n) => ` (${r[n].costPct.toFixed(1)} % throughput, ${r[n].cpuCostPct.toFixed(1)} % CPU/op)`;
        log?.(
          `  ${label}, ${what}/s: ${NAMES.map((n) => `${n} ${Math.round(r[n].median)} ${r[n].cpuUsPerOp.toFixed(2)} µs${n === "off" ? "" : cost(n)}`).join(", ")}`,
        );
      }
    }
  } finally {
    for (const group of Object.values(lockers)) for (const locker of Object.values(group)) await locker.terminate();
    for (const client of clients) await closeIoredis(client);
  }
  return result;
}
