// Node (any version) as an ES module: `pulselock` resolves through the "node" + "import" conditions.
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis as Upstash } from "@upstash/redis";
import Redis from "ioredis";
import * as lib from "pulselock";
import { runProcessSmoke } from "./process-smoke.mjs";

await runProcessSmoke(lib, {
  row: { runtime: `node ${process.versions.node.split(".")[0]}`, version: process.version, format: "ESM" },
  connect: (prefix) => {
    const client = new Redis(process.env.REDIS_URL);
    return { db: new lib.RedisDatabase(client, { prefix }), close: () => client.quit() };
  },
  upstash: (prefix) =>
    new lib.RedisDatabase(new Upstash({ url: process.env.UPSTASH_REDIS_REST_URL, token: process.env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false }), {
      prefix,
    }),
  holderCommand: [process.execPath, fileURLToPath(import.meta.url)],
});
