// Holds one lock until it is killed, with a short liveness TTL, so that the
// matrix can inspect it alive, SIGKILL this process, and release it dead.
import { Redis } from "ioredis";
import { Locker, LockStatus } from "pulselock";

const redis = new Redis(process.env.REDIS_URL);
const locker = new Locker({ database: redis, reportWriteMs: 200, reportTtlMs: 1000, instrumentation: false });
const key = `matrix-ops-${process.pid}`;
const res = await locker.acquire(key);
if (res.status !== LockStatus.SUCCESS) throw new Error(`not acquired: ${res.status}`);
console.log(JSON.stringify({ event: "held", key, processHash: res.lockData.processHash }));
setInterval(() => {}, 1 << 30);
