// The chaos participant that runs in workerd (Miniflare): one request runs one
// job under acquireAndRun() with pulselock's runtime-agnostic entry over
// @upstash/redis, against the Upstash REST server in front of the chaos Redis.
// Its events go to the orchestrator's fenced store over HTTP, in order.
// The request says whether this run misuses release() (chaos/misuse.mjs): its
// job releases its own lock, or after a refusal it releases the holder's lock.
import { Redis } from "@upstash/redis/cloudflare";
import { isLockError, Locker, LockStatus, RedisDatabase } from "pulselock";
import { chaosJob } from "./job.mjs";
import { misuseRelease } from "./misuse.mjs";

const unhandled = [];
addEventListener("unhandledrejection", (event) => unhandled.push(String(event.reason?.stack ?? event.reason)));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const params = url.searchParams;
    if (url.pathname === "/block") {
      // Busy: the isolate's one thread is blocked, and with it the timers that write its liveness.
      const until = Date.now() + Number(params.get("ms"));
      while (Date.now() < until) {
        // spin
      }
      return new Response("unblocked");
    }
    const key = params.get("key");
    const locker = new Locker({
      database: new RedisDatabase(new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false })),
      waitUntil: (promise) => ctx.waitUntil(promise),
      ...JSON.parse(env.CHAOS_TIMINGS),
    });
    let chain = Promise.resolve();
    const report = (event) => {
      const body = JSON.stringify({ worker: env.CHAOS_WORKER, ...event });
      chain = chain.then(() =>
        fetch(env.CHAOS_STORE_URL, { method: "POST", body }).then(
          (r) => r.arrayBuffer(),
          () => {},
        ),
      );
    };
    const run = params.get("run");
    const misuse = (fields) => misuseRelease({ locker, key, run, now: Date.now, report, ...fields });
    const job = chaosJob({
      run,
      key,
      workMs: Number(params.get("workMs")),
      stepMs: 100,
      now: Date.now,
      report,
      sleep,
      misuse: params.has("misuseOwn") ? (lockData) => misuse({ lockData, source: "own-run" }) : undefined,
    });
    let status;
    try {
      const res = await locker.acquireAndRun(key, job.fn, { trace: env.CHAOS_WORKER });
      status = res.status;
      if (res.status === LockStatus.SUCCESS) job.settle("released");
      else if (params.has("misuseRefusal")) await misuse({ lockData: res.lockData, source: "refusal", run: undefined });
    } catch (error) {
      status = "ERROR";
      if (!job.state.started) status = "ACQUIRE_ERROR";
      else if (isLockError(error)) job.settle("lost", String(error.message));
      else job.settle("error", String(error?.message ?? error));
    }
    await chain;
    await locker.terminate();
    return Response.json({ status, unhandled: unhandled.splice(0) });
  },
};
