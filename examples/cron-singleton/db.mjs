// @ts-check
// The cron instances' database module. Each instance passes it to its Locker
// as { moduleName, exportName: "db" }: pulselock's liveness thread imports this
// same module to build its own Redis connection (a thread cannot share the
// main thread's socket), so it must do nothing at import time besides creating
// the client.
import { Redis } from "ioredis";
import { RedisDatabase } from "pulselock";

const url = process.env.REDIS_URL;
if (!url) throw new Error("examples/cron-singleton/db.mjs: set REDIS_URL (or run examples/cron-singleton/main.mjs)");

/** Keeps the keys of one run (or one deployment) apart from everything else in this Redis. */
export const keyPrefix = process.env.CRON_PREFIX ?? "cron-example:";

/** The instance's own client: pulselock's lock records, and the jobs' "done" markers. */
export const redis = new Redis(url, { keyPrefix, maxRetriesPerRequest: 3 });

export const db = new RedisDatabase(redis);
