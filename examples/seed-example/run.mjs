// Runs the seed example against a redis-server spawned for the purpose (or
// REDIS_URL when set) and exits with the example's exit code.
//
//   node examples/seed-example/run.mjs
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startRedis } from "../../test/support/redis-server.mjs";

const TIMEOUT_MS = 30000;

const server = process.env.REDIS_URL ? null : await startRedis();
const url = process.env.REDIS_URL ?? server.url;
const example = fileURLToPath(new URL("./seed-example.cjs", import.meta.url));

const child = spawn(process.execPath, [example], { stdio: "inherit", env: { ...process.env, REDIS_URL: url } });
const timer = setTimeout(() => {
  console.error(`seed example did not exit within ${TIMEOUT_MS} ms (a handle left open?); killing it`);
  child.kill("SIGKILL");
}, TIMEOUT_MS);
const { code, signal } = await new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
clearTimeout(timer);

if (server) {
  // startRedis() unrefs the server process: keep the loop alive until it is gone.
  const keepAlive = setInterval(() => {}, 1000);
  await server.close();
  clearInterval(keepAlive);
}
process.exitCode = code ?? 1;
if (signal) console.error(`seed example was killed by ${signal}`);
