// A Cloudflare Worker that runs a job at most once across every isolate and
// region: the lock lives in Upstash (HTTP Redis), liveness is written by the
// isolate's own timers, and each request's ctx.waitUntil keeps it alive until
// its job and release are done, even after the response was sent.
//
// One Locker per isolate, at module scope, shared by concurrent requests.
// ctx.waitUntil belongs to one request, so it is passed per call.
import { createLocker, runJob, type Env } from "./job";
import type { Locker } from "pulselock";

interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

let locker: Locker | undefined;

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    locker ??= createLocker(env);
    return runJob(request, locker, { waitUntil: (promise) => ctx.waitUntil(promise) });
  },
};
