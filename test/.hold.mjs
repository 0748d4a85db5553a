import Redis from "ioredis";
import { Locker, RedisDatabase } from "pulselock";
const db = new RedisDatabase(new Redis(process.argv[2]), { prefix: "app:" });
const locker = new Locker({ database: db });
await locker.acquire("nightly-report", "cron 2am");
await locker.acquire("weird {key}\nwith newline");
console.log("held");
setInterval(() => {}, 1000);
