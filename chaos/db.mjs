// The chaos workers' database module. The Locker gets it as a reference, so
// its liveness thread imports it too and builds its own connection: both go
// through the worker's own TCP proxy (CHAOS_REDIS_URL), which is how a fault
// can cut one worker off from Redis.
import { Redis } from "ioredis";
import { RedisDatabase } from "pulselock";

const url = process.env.CHAOS_REDIS_URL;
if (!url) throw new Error("chaos/db.mjs: CHAOS_REDIS_URL must be set (run chaos/run.mjs instead)");

const client = new Redis(url);
// Connection errors are what the chaos run is made of; pulselock reports the ones that matter to
// locker.errors. Without a listener ioredis would print every one of them.
client.on("error", () => {});

export const db = new RedisDatabase(client);
