// A Cloudflare Worker that runs a job at most once across every isolate and
// region: the lock lives in Upstash (HTTP Redis), liveness is written by the
// isolate's own timers, and ctx.waitUntil keeps the isolate alive until the
// job and its release are done, even after the response was sent.
import { Redis } from "@upstash/redis/cloudflare";
import { Locker, LockStatus, RedisDatabase } from "pulselock";

export interface Env {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
}

interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const key = params.get("key") ?? "nightly-report";
    const workMs = Number(params.get("workMs") ?? "0");
    const locker = new Locker({
      database: new RedisDatabase(
        new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false }),
      ),
      waitUntil: (promise) => ctx.waitUntil(promise),
      reportWriteMs: 500,
      reportTtlMs: 3000,
    });
    const job = locker.acquireAndRun(key, async (heartbeat) => {
      await heartbeat.delay(workMs); // the job's real work goes here, heartbeating as it goes
      return heartbeat.lockData.fencingToken;
    });
    if (params.get("background") === "1") {
      // Answer at once; the job keeps its lock past the response, through waitUntil.
      return Response.json({ status: "STARTED" });
    }
    const res = await job;
    return Response.json(
      res.status === LockStatus.SUCCESS
        ? { status: res.status, fencingToken: res.result }
        : { status: res.status, holder: res.lockData.ownerHash },
    );
  },
};
