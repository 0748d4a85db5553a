import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startUpstashDevServer } from "../../cli/upstash-dev/server";
import { startRedis } from "./redis-server.mjs";

export interface UpstashStack {
  /** The REST server in this process (with its fault injection). */
  rest: Awaited<ReturnType<typeof startUpstashDevServer>>;
  /** A plain client on the redis-server behind it, to look at keys. */
  admin: Redis;
  redis: Awaited<ReturnType<typeof startRedis>>;
}

/** A redis-server and pulselock's Upstash-compatible server in front of it, for one test file. */
export function useUpstashStack(): UpstashStack {
  const stack = {} as UpstashStack;
  beforeAll(async () => {
    stack.redis = await startRedis();
    stack.rest = await startUpstashDevServer({ redisUrl: stack.redis.url });
    stack.admin = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    stack.admin?.disconnect();
    await stack.rest?.close();
    await stack.redis?.close();
  });
  return stack;
}
