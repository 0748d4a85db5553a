// The servers a benchmark run needs, all started by the run itself: a
// redis-server on a free loopback port (never 6379) and pulselock's Upstash
// REST server in front of it, in its own process like a real remote endpoint.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Redis from "ioredis";
import { startRedis } from "../../test/support/redis-server.mjs";

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

/** Starts `pulselock upstash-dev` on a free port; resolves with { url, token, close() }. */
export function startUpstashRest(redisUrl) {
  const token = `bench-${process.pid}`;
  const proc = spawn(process.execPath, [CLI, "upstash-dev", "--redis", redisUrl, "--port", "0", "--token", token], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (proc.kill("SIGKILL"), reject(new Error("upstash-dev did not start within 10 s"))), 10_000);
    proc.once("exit", (code) => reject(new Error(`upstash-dev exited with code ${code}`)));
    createInterface({ input: proc.stdout }).on("line", (line) => {
      const m = /^UPSTASH_REDIS_REST_URL=(.+)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        token,
        pid: proc.pid,
        close: () =>
          new Promise((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once("exit", done);
            proc.kill("SIGKILL");
          }),
      });
    });
  });
}

/** A redis-server, an admin client on it, and the REST server in front. */
export async function startServers({ upstash = true } = {}) {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  admin.on("error", () => {});
  let rest;
  try {
    rest = upstash ? await startUpstashRest(redis.url) : undefined;
  } catch (error) {
    admin.disconnect();
    await redis.close();
    throw error;
  }
  return {
    redis,
    admin,
    rest,
    async close() {
      admin.disconnect();
      await rest?.close();
      await redis.close();
    },
  };
}
