// Bun, TypeScript run directly: `pulselock` resolves through the "bun" condition
// (the Node entry, whose liveness runs in a worker_threads thread).
import { fileURLToPath } from "node:url";
import { Redis as Upstash } from "@upstash/redis";
import Redis from "ioredis";
import * as lib from "pulselock";
import { runProcessSmoke } from "./process-smoke.mjs";

declare const Bun: { version: string };

await runProcessSmoke(lib, {
  row: { runtime: "bun", version: Bun.version, format: "ESM (TS)" },
  connect: (prefix: string) => {
    const client = new Redis(process.env.REDIS_URL!);
    return { db: new lib.RedisDatabase(client, { prefix }), close: () => client.quit() };
  },
  upstash: (prefix: string) =>
    new lib.RedisDatabase(new Upstash({ url: process.env.UPSTASH_REDIS_REST_URL!, token: process.env.UPSTASH_REDIS_REST_TOKEN!, enableTelemetry: false }), {
      prefix,
    }),
  holderCommand: [process.execPath, fileURLToPath(import.meta.url)],
});
