// Tries to take each key it is given every `pollMs` with acquireAndRun, and
// reports over IPC the wall-clock moment its job function starts.
import { Locker, RedisDatabase, LockStatus } from "pulselock";
import { ioredis } from "../lib/clients.mjs";
import { sleep, wallNow } from "../lib/loop.mjs";
import { warmLocker } from "../lib/peers.mjs";

const [url, optionsJson, pollMs] = process.argv.slice(2);
const locker = new Locker({ database: new RedisDatabase(ioredis(url)), ...JSON.parse(optionsJson) });
await warmLocker(locker);
process.send({ type: "ready" });
process.on("message", async ({ key }) => {
  for (;;) {
    const res = await locker.acquireAndRun(key, () => process.send({ type: "running", key, at: wallNow() }));
    if (res.status === LockStatus.SUCCESS) return;
    await sleep(Number(pollMs));
  }
});
