// What OpenTelemetry costs a Locker: uncontended acquire+release pairs/s and
// acquireAndRun()s/s against the bench's redis-server (64 in flight, ioredis
// auto-pipelining), with no instrumentation, with openTelemetry() over the bare
// API (no SDK registered: the API's no-op), and with openTelemetry() over an
// SDK that records but exports nothing (a MeterProvider without readers, a
// tracer provider without span processors). The variants run in interleaved
// rounds, each in a rotating order, so that a shared machine's bursts hit them
// alike; the medians are compared.
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { openTelemetry } from "pulselock/opentelemetry";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { runFor } from "./lib/loop.mjs";

const CONCURRENCY = 64;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const VARIANTS = {
  off: () => undefined,
  "no-op API": () => openTelemetry(),
  "no-op SDK": () => openTelemetry({ meterProvider: new MeterProvider(), tracerProvider: new BasicTracerProvider() }),
};

export async function measureOtelOverhead({ redis, roundMs, rounds, warmupMs, log }) {
  const clients = [];
  const lockers = {};
  for (const [name, make] of Object.entries(VARIANTS)) {
    const client = ioredis(redis.url);
    clients.push(client);
    lockers[name] = new Locker({ database: new RedisDatabase(client, { prefix: `otel-bench-${Object.keys(lockers).length}:` }), instrumentation: make() });
  }
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
  const names = Object.keys(VARIANTS);
  const result = {};
  try {
    for (const [what, op] of [
      ["pairs", pairs],
      ["runs", runs],
    ]) {
      for (const name of names) await runFor({ durationMs: warmupMs, concurrency: CONCURRENCY, op: op(lockers[name]) });
      const perSec = Object.fromEntries(names.map((n) => [n, []]));
      // At least 5 rounds: one round per variant is no median.
      for (let r = 0; r < Math.max(5, rounds * 2); r++) {
        for (let i = 0; i < names.length; i++) {
          const name = names[(r + i) % names.length];
          const { ops, ms, errors, firstError } = await runFor({ durationMs: roundMs / 2, concurrency: CONCURRENCY, op: op(lockers[name]) });
          if (errors) throw firstError;
          perSec[name].push((ops / ms) * 1000);
        }
      }
      result[what] = Object.fromEntries(
        names.map((n) => [n, { median: median(perSec[n]), rounds: perSec[n], costPct: (1 - median(perSec[n]) / median(perSec.off)) * 100 }]),
      );
      log?.(
        `  ${what}/s: ${names.map((n) => `${n} ${Math.round(result[what][n].median)}${n === "off" ? "" : ` (${result[what][n].costPct.toFixed(1)} %)`}`).join(", ")}`,
      );
    }
  } finally {
    for (const locker of Object.values(lockers)) await locker.terminate();
    for (const client of clients) await closeIoredis(client);
  }
  return result;
}
