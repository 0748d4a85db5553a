// The matrix's servers: a redis-server on a free loopback port, and the
// Upstash REST protocol in front of it, served by the installed tarball's own
// `pulselock upstash-dev` bin, as npx runs it (so the shipped CLI is exercised too).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startRedis } from "../support/redis-server.mjs";

export async function startServices(project) {
  const redis = await startRedis();
  // The bin npm linked for the package, as `npx pulselock` runs it: the package.json bin entry and the shebang count too.
  const bin = join(project, "node_modules", ".bin", "pulselock");
  const child = spawn(bin, ["upstash-dev", "--redis", redis.url, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const rest = await new Promise((resolve, reject) => {
      const found = {};
      const timer = setTimeout(() => reject(new Error("pulselock upstash-dev printed no URL within 30 s")), 30_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        const m = /^UPSTASH_REDIS_REST_(URL|TOKEN)=(.+)$/.exec(line);
        if (m) found[m[1].toLowerCase()] = m[2];
        if (found.url && found.token) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once("exit", (code) => reject(new Error(`pulselock upstash-dev exited with code ${code}`)));
    });
    return {
      redis,
      rest,
      async close() {
        child.kill("SIGTERM");
        await exited;
        await redis.close();
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await redis.close();
    throw error;
  }
}
