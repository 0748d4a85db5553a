// db.mjs — the module that both the main thread and the liveness thread load
import { Redis } from "ioredis";
import { RedisDatabase } from "pulselock";

export const db = new RedisDatabase(new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { keyPrefix: "locker:" }));
