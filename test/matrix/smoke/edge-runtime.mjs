// Vercel's edge runtime (@edge-runtime/vm): bundled by the matrix from the
// installed tarball into one script that exposes runSmoke(); no process, no require.
import { Redis } from "@upstash/redis";
import * as lib from "pulselock";
import { TIMINGS, exclusiveAndTokens } from "./checks.mjs";

globalThis.runSmoke = async ({ url, token, key }) => {
  const pending = [];
  const makeLocker = () =>
    new lib.Locker({
      database: new lib.RedisDatabase(new Redis({ url, token, enableTelemetry: false }), { prefix: "matrix:" }),
      waitUntil: (promise) => void pending.push(promise),
      ...TIMINGS,
    });
  try {
    const basic = await exclusiveAndTokens(lib, makeLocker, key);
    for (const locker of basic.lockers) await locker.terminate();
    await Promise.all(pending);
    return { liveness: basic.liveness, exclusive: basic.exclusive, tokens: basic.tokens, signals: basic.signals, process: typeof process };
  } catch (error) {
    return { error: String(error?.stack ?? error) };
  }
};
