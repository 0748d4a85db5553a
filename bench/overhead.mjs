// Diagnostic: pulselock's own client CPU per acquire+release pair, without
// a client library or a network. The Locker (pulselock/core, liveness on
// in-thread timers that, like the Node thread, never go idle) runs over a transport that answers each script at once
// with the reply Redis would give on a free key. Beside it, the client CPU of
// one ioredis EVALSHA (auto-pipelined, 64 in flight). Together they split the
// client CPU of a real pair into pulselock's part and the client library's.
import { Locker, RedisDatabase, LockStatus } from "pulselock/core";
import { inThreadPlatform } from "pulselock/internal";
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { runFor } from "./lib/loop.mjs";

const CONCURRENCY = 64;

/**
 * Canned replies by script shape: a liveness write or read, a batched acquire
 * (ARGV: processHash, lockTtlMs, liveness check, one per lock), a batched
 * release (ARGV: publish mode, one per lock; 2 keys per lock).
 */
export function instantTransport() {
  let token = 1_700_000_000_000_000;
  const reply = (sha, keys, args) => {
    if (keys[0].includes(":proc:")) return args.length === 3 ? "OK" : null;
    if (args[0].length === 32) {
      // The batch's time in µs, then 1 per lock: taken, with that time as its token.
      return [(token += 1000), ...args.slice(3).map(() => 1)];
    }
    return Array.from({ length: keys.length / 2 }, () => 1);
  };
  return {
    kind: "instant",
    clientKeyPrefix: "",
    evalsha: async (sha, keys, args) => reply(sha, keys, args),
    eval: async (source, keys, args) => reply(source, keys, args),
  };
}

/**
 * In-thread liveness that never goes idle, like the Node thread: the edge
 * behaviour (retire the identity when nothing is held) would make every
 * acquire at a quiet moment start a new identity, which a Node Locker never does.
 */
export const alwaysOnPlatform = {
  ...inThreadPlatform,
  createLiveness(params) {
    const liveness = inThreadPlatform.createLiveness(params);
    liveness.idle = undefined;
    return liveness;
  },
};

async function cpuPerOp(durationMs, op) {
  await runFor({ durationMs: durationMs / 4, concurrency: CONCURRENCY, op });
  const cpu = process.cpuUsage();
  const { ops } = await runFor({ durationMs, concurrency: CONCURRENCY, op });
  const { user, system } = process.cpuUsage(cpu);
  return { cpuUs: (user + system) / ops, opsPerSec: ops / (durationMs / 1000) };
}

export async function measureOverhead({ redis, durationMs }) {
  const locker = new Locker({ database: new RedisDatabase(instantTransport()) }, alwaysOnPlatform);
  const pulselock = await cpuPerOp(durationMs, async (w) => {
    const res = await locker.acquire(`k${w}`);
    if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
    await locker.release(`k${w}`, res.lockData);
  });
  const job = async () => {};
  const run = await cpuPerOp(durationMs, async (w) => {
    const res = await locker.acquireAndRun(`k${w}`, job);
    if (res.status !== LockStatus.SUCCESS) throw new Error("not acquired");
  });
  await locker.terminate();
  const client = ioredis(redis.url);
  const sha = await client.script("LOAD", "return 1");
  const evalsha = await cpuPerOp(durationMs, (w) => client.evalsha(sha, 1, `k${w}`));
  await closeIoredis(client);
  return { pulselockUsPerPair: pulselock.cpuUs, pulselockUsPerRun: run.cpuUs, ioredisUsPerEvalsha: evalsha.cpuUs };
}
