// Each library under test behind one shape: setup(target, prefix, clientOptions)
// → { pair(key), close() }, where pair() takes the lock on an uncontended key and
// releases it. Every library gets its own client(s), built with the client
// options of the setting under test, and its own key prefix (a fresh key space).
import { Locker, RedisDatabase, LockStatus } from "pulselock";
import RedlockV5 from "redlock";
import { Redlock as SesameRedlock } from "@sesamecare-oss/redlock";
import { Mutex, Semaphore } from "redis-semaphore";
import { Lock as UpstashLock } from "@upstash/lock";
import { closeIoredis, ioredis, upstash } from "./clients.mjs";

/** How long a lock is held at most when its holder forgets it; the same for every library. */
const LEASE_MS = 30_000;

async function pulselockOver(db, close) {
  const locker = new Locker({ database: db });
  await warmLocker(locker);
  return {
    async pair(key) {
      const res = await locker.acquire(key);
      if (res.status !== LockStatus.SUCCESS) throw new Error(`pulselock: ${key} was held`);
      await locker.release(key, res.lockData);
    },
    async close() {
      await locker.terminate();
      await close();
    },
  };
}

/** The first acquire starts the liveness thread and waits for its first write; that is not what we measure. */
export async function warmLocker(locker) {
  const res = await locker.acquire("warmup");
  if (res.status === LockStatus.SUCCESS) await locker.release("warmup", res.lockData);
}

export const IOREDIS_PEERS = {
  pulselock: {
    label: "pulselock (ioredis)",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      return pulselockOver(new RedisDatabase(client), () => closeIoredis(client));
    },
  },
  "pulselock-run": {
    label: "pulselock acquireAndRun (ioredis)",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      const locker = new Locker({ database: new RedisDatabase(client) });
      await warmLocker(locker);
      const noop = async () => {};
      return {
        async pair(key) {
          const res = await locker.acquireAndRun(key, noop);
          if (res.status !== LockStatus.SUCCESS) throw new Error(`pulselock: ${key} was held`);
        },
        async close() {
          await locker.terminate();
          await closeIoredis(client);
        },
      };
    },
  },
  redlock: {
    label: "redlock 5 (1 instance)",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      const redlock = new RedlockV5([client], { retryCount: 0 });
      return {
        async pair(key) {
          const lock = await redlock.acquire([key], LEASE_MS);
          await lock.release();
        },
        close: () => closeIoredis(client),
      };
    },
  },
  sesame: {
    label: "@sesamecare-oss/redlock (1 instance)",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      const redlock = new SesameRedlock([client], { retryCount: 0 });
      return {
        async pair(key) {
          const lock = await redlock.acquire([key], LEASE_MS);
          await lock.release();
        },
        close: () => closeIoredis(client),
      };
    },
  },
  semaphore: {
    label: "redis-semaphore Mutex",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      return {
        async pair(key) {
          // Its defaults otherwise: the refresh timer (every 0.8 × lockTimeout) is part of what a user gets.
          const mutex = new Mutex(client, key, { lockTimeout: LEASE_MS, acquireAttemptsLimit: 1 });
          await mutex.acquire();
          await mutex.release();
        },
        close: () => closeIoredis(client),
      };
    },
  },
  "semaphore-1": {
    label: "redis-semaphore Semaphore (limit 1)",
    async setup(url, prefix, options) {
      const client = ioredis(url, { ...options, keyPrefix: prefix });
      return {
        async pair(key) {
          const semaphore = new Semaphore(client, key, 1, { lockTimeout: LEASE_MS, acquireAttemptsLimit: 1 });
          await semaphore.acquire();
          await semaphore.release();
        },
        close: () => closeIoredis(client),
      };
    },
  },
};

export const UPSTASH_PEERS = {
  "pulselock-upstash": {
    label: "pulselock (@upstash/redis)",
    async setup(rest, prefix, options) {
      return pulselockOver(new RedisDatabase(upstash(rest, options), { prefix }), async () => {});
    },
  },
  "upstash-lock": {
    label: "@upstash/lock",
    async setup(rest, prefix, options) {
      const redis = upstash(rest, options);
      return {
        async pair(key) {
          const lock = new UpstashLock({ id: prefix + key, redis, lease: LEASE_MS, retry: { attempts: 1, delay: 1 } });
          if (!(await lock.acquire())) throw new Error(`@upstash/lock: ${key} was held`);
          await lock.release();
        },
        close: async () => {},
      };
    },
  },
};
