// A Vercel route handler that runs a job at most once across all instances.
// The same code runs on the Edge runtime (liveness from the isolate's timers)
// and as a Node serverless function (liveness from a worker thread); in both,
// @vercel/functions' waitUntil keeps the instance alive until the job and its
// release are done, so the response can be sent at once.
import { waitUntil } from "@vercel/functions";
import { Redis } from "@upstash/redis";
import { Locker, LockStatus, RedisDatabase } from "pulselock";

export interface JobConfig {
  url: string;
  token: string;
  prefix?: string;
}

export function createJobHandler({ url, token, prefix }: JobConfig): (request: Request) => Promise<Response> {
  const locker = new Locker({
    database: new RedisDatabase(new Redis({ url, token, enableTelemetry: false }), { prefix }),
    waitUntil,
    reportWriteMs: 500,
    reportTtlMs: 3000,
  });
  return async (request) => {
    const params = new URL(request.url).searchParams;
    const key = params.get("key") ?? "rebuild-search-index";
    const workMs = Number(params.get("workMs") ?? "0");
    const job = locker.acquireAndRun(key, async (heartbeat) => {
      await heartbeat.delay(workMs); // the real work, heartbeating as it goes
      return heartbeat.lockData.fencingToken;
    });
    if (params.get("background") === "1") return Response.json({ status: "STARTED" });
    const res = await job;
    return Response.json(
      res.status === LockStatus.SUCCESS ? { status: res.status, fencingToken: res.result } : { status: res.status, holder: res.lockData.ownerHash },
    );
  };
}
