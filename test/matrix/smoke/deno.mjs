// Deno, with the project's node_modules (--node-modules-dir=manual):
// `pulselock` resolves through the "deno" condition to the Deno entry, whose
// liveness runs in a Web Worker. With PULSELOCK_SMOKE_ENTRY=pulselock/node the
// same run uses the Node entry instead (worker_threads on Deno's polyfill).
import { Redis as Upstash } from "@upstash/redis";
import { Redis } from "ioredis";
import { runProcessSmoke } from "./process-smoke.mjs";

const entry = Deno.env.get("PULSELOCK_SMOKE_ENTRY") ?? "pulselock";
const lib = await import(entry);

await runProcessSmoke(lib, {
  row: { runtime: entry === "pulselock" ? "deno" : `deno (${entry})`, version: Deno.version.deno, format: "ESM" },
  connect: (prefix) => {
    const client = new Redis(Deno.env.get("REDIS_URL"));
    return { db: new lib.RedisDatabase(client, { prefix }), close: () => client.quit() };
  },
  upstash: (prefix) =>
    new lib.RedisDatabase(
      new Upstash({ url: Deno.env.get("UPSTASH_REDIS_REST_URL"), token: Deno.env.get("UPSTASH_REDIS_REST_TOKEN"), enableTelemetry: false }),
      { prefix },
    ),
  holderCommand: [Deno.execPath(), "run", "-A", "--node-modules-dir=manual", new URL(import.meta.url).pathname],
});
