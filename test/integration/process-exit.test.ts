import { afterAll, beforeAll, expect, it } from "vitest";
import { killAll, startChild, type Child } from "../support/child-process";
import { startRedis } from "../support/redis-server.mjs";

let server: Awaited<ReturnType<typeof startRedis>>;
const children: Child[] = [];
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  killAll(children);
  await server.close();
});

it("G6: no timer, thread or socket of pulselock keeps a finished process alive", async () => {
  const child = startChild("exits-on-its-own.mjs", [server.url]);
  children.push(child);
  await child.next("done");
  const code = await Promise.race([
    child.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve("still running after 15 s"), 15_000)),
  ]);
  expect(code).toBe(0);
});
