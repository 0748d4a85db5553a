import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAll, startChild, type Child } from "../support/child-process";
import { startCluster } from "../support/redis-cluster.mjs";
import { startRedis } from "../support/redis-server.mjs";

let server: Awaited<ReturnType<typeof startRedis>>;
let cluster: Awaited<ReturnType<typeof startCluster>>;
const children: Child[] = [];
beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster({ masters: 3 })]);
});
afterAll(async () => {
  killAll(children);
  await Promise.all([server.close(), cluster.close()]);
});

async function runToExit(args: string[], seen: { processHash?: string } = {}) {
  const child = startChild("exits-on-its-own.mjs", args);
  children.push(child);
  seen.processHash = (await child.next("done")).processHash as string;
  return Promise.race([child.exited, new Promise<string>((resolve) => setTimeout(() => resolve("still running after 15 s"), 15_000))]);
}

describe("G6: nothing of pulselock keeps a finished process alive", () => {
  it("on a single Redis (liveness thread, deadline timers, subscriber, backoff)", async () => {
    expect(await runToExit([server.url])).toBe(0);
  });

  it("on a Redis Cluster (sharded subscriber connections too)", async () => {
    expect(await runToExit([`cluster:${cluster.nodes.map((n: { port: number }) => n.port).join(",")}`])).toBe(0);
  });

  it.each(["ioredis", "upstash"])("after a first acquire that failed with Redis out of reach (%s), without terminate()", async (client) => {
    const child = startChild("fails-then-exits.mjs", [client]);
    children.push(child);
    expect((await child.next("done")).rejected).toBe("RedisCommandError");
    // The first write's timeout is a minute in the fixture: a timer left behind would hold the process that long.
    const exited = await Promise.race([child.exited, new Promise<string>((resolve) => setTimeout(() => resolve("still running after 15 s"), 15_000))]);
    expect(exited).toBe(0);
  });

  it("a process that awaits terminate() last deletes its liveness record before it exits", async () => {
    const seen: { processHash?: string } = {};
    expect(await runToExit([server.url, "terminate"], seen)).toBe(0);
    const admin = new Redis(server.url);
    try {
      expect(seen.processHash).toMatch(/^[0-9a-f]{32}$/);
      expect(await admin.exists(`pl:proc:${seen.processHash}`)).toBe(0);
    } finally {
      admin.disconnect();
    }
  });
});
