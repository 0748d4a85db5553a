// One Locker per process or isolate, at module scope, shared by every request
// of the route that imports this file. Upstash (HTTP Redis) serves both
// runtimes; an app that uses only @upstash/redis needs no ioredis.
//
// waitUntil from @vercel/functions keeps the function alive after the
// response until the job and its release are done (on Vercel; under
// `next start` the server simply stays up).
import { Redis } from "@upstash/redis";
import { waitUntil } from "@vercel/functions";
import { Locker, LockStatus, RedisDatabase } from "pulselock";

// On globalThis: `next dev` runs this module again after edits, and each Locker left behind would keep its
// liveness thread writing to Redis (Node runtime) for as long as the dev server runs.
const cached = globalThis as typeof globalThis & { pulselock?: Locker };
const locker = (cached.pulselock ??= new Locker({
  database: new RedisDatabase(
    new Redis({
      url: process.env.UPSTASH_REDIS_REST_URL!,
      token: process.env.UPSTASH_REDIS_REST_TOKEN!,
      enableTelemetry: false,
    }),
  ),
  waitUntil,
  // Short, so that a dead instance's locks are taken over within seconds (defaults: 2 s and 10 s).
  reportWriteMs: 500,
  reportTtlMs: 3000,
}));

/** GET ?key=…&workMs=…[&background=1]: runs the job under the lock; with background=1 it answers at once. */
export function jobHandler(runtime: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const params = new URL(request.url).searchParams;
    const key = params.get("key") ?? "rebuild-search-index";
    const workMs = Number(params.get("workMs") ?? "0");
    const job = locker.acquireAndRun(key, async (heartbeat) => {
      await heartbeat.delay(workMs); // the real work goes here, heartbeating as it goes
      console.log(`job done: ${runtime} ${key} ${heartbeat.lockData.fencingToken}`);
      return heartbeat.lockData.fencingToken;
    });
    if (params.get("background") === "1") {
      // Answer now; waitUntil (given to the Locker) keeps the job and its lock alive past the response.
      job.catch((error) => console.error(`job failed: ${key}`, error));
      return Response.json({ status: "STARTED" });
    }
    const res = await job;
    return Response.json(
      res.status === LockStatus.SUCCESS ? { status: res.status, fencingToken: res.result } : { status: res.status, holder: res.lockData.ownerHash },
    );
  };
}
