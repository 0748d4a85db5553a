"use strict";
// The seed README example, as written, in CommonJS (import path aside):
// the database is exported from this very module and handed to the Locker as
// { moduleName: __filename, exportName: "db" }. pulselock's liveness thread
// imports this file again to build its own Redis connection, so everything at
// the top level also runs in that thread; the Locker is inert there, and main()
// only runs when this file is the program itself.
//
//   REDIS_URL=redis://127.0.0.1:<port> node examples/seed-example/seed-example.cjs
//   node examples/seed-example/run.mjs          (spawns its own redis-server)
const Redis = require("ioredis");
const { Locker, RedisDatabase, LockStatus, isLivenessThread } = require("pulselock");

if (!process.env.REDIS_URL) throw new Error("seed-example: set REDIS_URL (or run examples/seed-example/run.mjs)");
const { hostname: host, port } = new URL(process.env.REDIS_URL);

// Named, so that main() can quit it at the end; otherwise exactly the README's line.
const client = new Redis({ host, port: Number(port), db: 0, keyPrefix: "locker:" });
exports.db = new RedisDatabase(client);
const locker = new Locker({ database: { moduleName: __filename, exportName: "db" } });

// The README's placeholders: a few steps of work.
let steps = 0;
const shouldContinue = () => steps < 5;
const doSomeWork = () => new Promise((resolve) => setTimeout(() => resolve(steps++), 100));

async function main() {
  const res = await locker.acquireAndRun("job-key", async (heartbeat) => {
    while (shouldContinue()) {
      await doSomeWork();
      await heartbeat();
    }
  });
  // res is { status: LockStatus.SUCCESS } or { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK }
  console.log("seed example:", res, `(${steps} steps of work)`);
  await locker.terminate();
  await client.quit();
  // No process.exit(): the process ends by itself, which shows that nothing is left running.
  process.exitCode = res.status === LockStatus.SUCCESS ? 0 : 1;
}

if (require.main === module && !isLivenessThread()) {
  main().catch((error) => {
    console.error("seed example failed:", error);
    process.exitCode = 1;
    client.disconnect();
    void locker.terminate();
  });
}
