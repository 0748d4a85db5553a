// The job route shared by both entry points: GET ?key=…&workMs=…[&background=1].
import { Redis } from "@upstash/redis/cloudflare";
import { Locker, LockStatus, RedisDatabase, type RunOptions } from "pulselock";

export interface Env {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
}

/** A Locker for this isolate, built from the first request's env. */
export function createLocker(env: Env, waitUntil?: (promise: Promise<unknown>) => void): Locker {
  return new Locker({
    database: new RedisDatabase(new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false })),
    waitUntil,
    // Short, so that a dead isolate's locks are taken over within seconds (defaults: 2 s and 10 s).
    reportWriteMs: 500,
    reportTtlMs: 3000,
  });
}

export async function runJob(request: Request, locker: Locker, options?: RunOptions): Promise<Response> {
  const params = new URL(request.url).searchParams;
  const key = params.get("key") ?? "nightly-report";
  const workMs = Number(params.get("workMs") ?? "0");
  const job = locker.acquireAndRun(
    key,
    async (heartbeat) => {
      await heartbeat.delay(workMs); // the job's real work goes here, heartbeating as it goes
      console.log(`job done: workerd ${key} ${heartbeat.lockData.fencingToken}`);
      return heartbeat.lockData.fencingToken;
    },
    options,
  );
  if (params.get("background") === "1") {
    // Answer at once; the job keeps its lock past the response, through waitUntil.
    job.catch((error) => console.error(`job failed: ${key}`, error));
    return Response.json({ status: "STARTED" });
  }
  const res = await job;
  return Response.json(
    res.status === LockStatus.SUCCESS ? { status: res.status, fencingToken: res.result } : { status: res.status, holder: res.lockData.ownerHash },
  );
}
