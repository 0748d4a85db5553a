// A nightly report job for Deno, started by cron on every machine of a fleet:
// only one machine builds the report, the others see that it is taken and
// exit. pulselock/deno (what the root `pulselock` resolves to on Deno too)
// writes this process's liveness from a Web Worker, so a batch that blocks
// the event loop does not cost the lock; if the machine dies mid-report,
// another run takes the job over within reportTtlMs.
//
// The database is given as { moduleName: import.meta.url, exportName: "db" }:
// the liveness worker imports this very module to open its own connection
// (any client options work, TLS callbacks too). So the job runs only outside
// that worker (isLivenessThread()), and is not awaited at the top level: this
// module's own import, in the main thread, would wait for it.
//
//   REDIS_URL=redis://127.0.0.1:<port> deno run -A examples/deno/nightly-report.ts
//   (pulselock and ioredis from npm: see deno.json beside this file)
import { Redis } from "ioredis";
import { isLivenessThread, Locker, LockStatus, RedisDatabase } from "pulselock/deno";

const url = Deno.env.get("REDIS_URL");
if (!url) throw new Error("nightly-report: set REDIS_URL");
const redis = new Redis(url);
export const db = new RedisDatabase(redis, { prefix: "reports:" });

const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));

/** One batch of the report: summing a slice of the day's numbers (a stand-in for the real queries). */
function buildBatch(batch: number, batchMs: number): number {
  let sum = 0;
  const end = performance.now() + batchMs;
  while (performance.now() < end) sum += batch; // CPU-bound on purpose: the event loop is blocked
  return sum;
}

async function main(): Promise<void> {
  const batches = Number(Deno.env.get("BATCHES") ?? 10);
  const batchMs = Number(Deno.env.get("BATCH_MS") ?? 200);
  const day = new Date().toISOString().slice(0, 10);
  const locker = new Locker({ database: { moduleName: import.meta.url, exportName: "db" } });
  const res = await locker.acquireAndRun(`nightly-report:${day}`, async (heartbeat) => {
    const token = heartbeat.lockData.fencingToken;
    print({ event: "started", day, token });
    let total = 0;
    for (let batch = 0; batch < batches; batch++) {
      total += buildBatch(batch, batchMs);
      await heartbeat(); // throws if the lock was lost: stop rather than write a report twice
    }
    // Writes downstream carry the fencing token, so a stale owner's late write can be refused.
    await redis.set(`reports:${day}`, JSON.stringify({ total, token }));
    return { token, batches };
  });
  if (res.status === LockStatus.SUCCESS) print({ event: "ran", ...res.result });
  else print({ event: "skipped", heldBy: res.lockData.processHash, since: res.lockData.acquiredAt });
  await locker.terminate();
}

if (!isLivenessThread()) {
  main()
    .catch((error) => {
      console.error(error);
      Deno.exitCode = 1;
    })
    .finally(() => redis.quit());
}
