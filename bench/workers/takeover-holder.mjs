// Holds one lock through acquireAndRun and says "ready" over IPC while the
// job runs; it heartbeats until takeover.mjs SIGKILLs it.
import { Locker, RedisDatabase } from "pulselock";
import { ioredis } from "../lib/clients.mjs";

const [url, key, optionsJson] = process.argv.slice(2);
const locker = new Locker({ database: new RedisDatabase(ioredis(url)), ...JSON.parse(optionsJson) });
await locker.acquireAndRun(key, async (heartbeat) => {
  process.send({ type: "ready", key });
  for (;;) await heartbeat.delay(1000);
});
