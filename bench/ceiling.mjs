// The ceiling: raw EVALSHA throughput of the same Redis from Node (ioredis,
// auto-pipelining, 256 in flight). The script does nothing, so no Lua-backed
// lock, which needs at least one script call per operation, can beat it.
import { closeIoredis, ioredis } from "./lib/clients.mjs";
import { runFor } from "./lib/loop.mjs";
import { commandCalls, resetStats, totalCalls } from "./lib/redis-stats.mjs";

const IN_FLIGHT = 256;

export async function measureCeiling({ redis, admin, durationMs, warmupMs }) {
  const client = ioredis(redis.url);
  const sha = await client.script("LOAD", "return 1");
  const op = (worker, i) => client.evalsha(sha, 1, `ceiling:${worker}:${i & 1023}`);
  await runFor({ durationMs: warmupMs, concurrency: IN_FLIGHT, op });
  await resetStats(admin);
  const { ops, ms } = await runFor({ durationMs, concurrency: IN_FLIGHT, op });
  const calls = totalCalls(await commandCalls(admin));
  await closeIoredis(client);
  return { opsPerSec: (ops / ms) * 1000, commandsPerOp: calls / ops, inFlight: IN_FLIGHT };
}
