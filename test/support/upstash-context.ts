import { Redis as Upstash } from "@upstash/redis";
import Redis from "ioredis";
import { RedisDatabase } from "pulselock";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ConformanceContext } from "../conformance/context";
import { freePort, startRedis } from "./redis-server.mjs";
import { startProxy } from "./tcp-proxy.mjs";

/**
 * The conformance context for the Upstash transport: the unmodified
 * @upstash/redis client, through pulselock's Upstash-compatible server, in
 * front of a spawned redis-server. HTTP has no pub/sub and no key prefix of
 * its own, so RedisDatabase's `prefix` option carries the prefix. The REST
 * server runs in its own process (`pulselock upstash-dev`, as users run it):
 * a test that blocks its main thread must not block Redis too.
 */
async function startRestServer(redisUrl: string) {
  const token = crypto.randomUUID();
  const port = await freePort();
  const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
  const proc = spawn(process.execPath, [cli, "upstash-dev", "--redis", redisUrl, "--port", String(port), "--token", token], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`pulselock upstash-dev exited with code ${code}`)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const m = /^UPSTASH_REDIS_REST_URL=(.+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
  });
  return {
    url,
    port,
    token,
    close: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
export async function upstashContext(): Promise<ConformanceContext> {
  const server = await startRedis();
  const rest = await startRestServer(server.url);
  const admin = new Redis(server.url);
  admin.on("error", () => {});
  const proxies: Awaited<ReturnType<typeof startProxy>>[] = [];
  const prefix = `u${Math.random().toString(36).slice(2, 8)}:`;
  const client = (url: string) => new Upstash({ url, token: rest.token, enableTelemetry: false });
  return {
    name: "upstash",
    shards: 1,
    supportsPubSub: false,
    prefix,
    server,
    url: rest.url,
    admin: (...args) => admin.call(args[0]!, ...args.slice(1)),
    database: (options) => new RedisDatabase(client(rest.url), { prefix, ...options }),
    async partitionedDatabase() {
      const proxy = await startProxy(rest.port);
      proxies.push(proxy);
      return { db: new RedisDatabase(client(`http://127.0.0.1:${proxy.port}`), { prefix }), proxy };
    },
    childArgs: () => ({ url: `upstash:${rest.url}#${rest.token}`, prefix }),
    async close() {
      for (const p of proxies) await p.close();
      admin.disconnect();
      await rest.close();
      await server.close();
    },
  };
}
