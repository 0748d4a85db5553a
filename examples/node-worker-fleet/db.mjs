// @ts-check
// The fleet's database module, passed to each worker's Locker as
// { moduleName, exportName: "db" }: the liveness thread imports it again to
// build its own connection, so it only creates the client.
import { Redis } from "ioredis";
import { RedisDatabase } from "pulselock";

if (!process.env.REDIS_URL) throw new Error("examples/node-worker-fleet/db.mjs: set REDIS_URL (or run main.mjs)");

/** The worker's client; the worker quits it when it stops, or its open socket would keep the process alive. */
export const redis = new Redis(process.env.REDIS_URL, { keyPrefix: process.env.FLEET_PREFIX ?? "fleet-example:" });

export const db = new RedisDatabase(redis);
