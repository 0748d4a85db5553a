// A Cloudflare Worker (bundled by the matrix from the installed tarball, run in
// workerd through Miniflare without nodejs_compat). `pulselock` resolves to the
// runtime-agnostic entry: liveness from the isolate's timers, kept alive by waitUntil.
import { Redis } from "@upstash/redis/cloudflare";
import * as lib from "pulselock";
import { TIMINGS, exclusiveAndTokens } from "./checks.mjs";

export default {
  async fetch(request, env, ctx) {
    const key = new URL(request.url).searchParams.get("key");
    const makeLocker = () =>
      new lib.Locker({
        database: new lib.RedisDatabase(new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false }), {
          prefix: "matrix:",
        }),
        waitUntil: (promise) => ctx.waitUntil(promise),
        ...TIMINGS,
      });
    try {
      const basic = await exclusiveAndTokens(lib, makeLocker, key);
      for (const locker of basic.lockers) await locker.terminate();
      return Response.json({ liveness: basic.liveness, exclusive: basic.exclusive, tokens: basic.tokens, signals: basic.signals, process: typeof process });
    } catch (error) {
      return Response.json({ error: String(error?.stack ?? error) });
    }
  },
};
