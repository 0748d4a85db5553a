import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRedis } from "../support/redis-server.mjs";

/** An invalid call must not leave a thread, timer or socket that keeps the process alive. */
let server: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.close();
});

it("a process that made only refused calls (and one job) exits by itself", async () => {
  const fixture = fileURLToPath(new URL("./fixtures/invalid-calls.mjs", import.meta.url));
  const child = spawn(process.execPath, [fixture, server.url], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exit = await Promise.race([
    new Promise<number | null>((resolve) => child.once("exit", resolve)),
    // Generous: the missing-module Locker waits up to its 2 s spawn timeout; a stuck process never exits.
    new Promise<string>((resolve) => setTimeout(() => resolve("still running after 20 s"), 20_000)),
  ]);
  if (typeof exit === "string") child.kill("SIGKILL");
  const done = JSON.parse(out.trim().split("\n").pop() ?? "{}");
  expect(done.refused).toEqual([
    { what: "bad option", error: "TypeError" },
    { what: "acquire('')", error: "TypeError" },
    { what: "mutex(NaN)", error: "TypeError" },
    { what: "release(bad lockData)", error: "TypeError" },
    { what: "setDraining(42)", error: "TypeError" },
    { what: "delay(-1) in a job", error: "TypeError" },
    { what: "missing database module", error: "DatabaseLoadError" },
  ]);
  expect(exit).toBe(0);
});
