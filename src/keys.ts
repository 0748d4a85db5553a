/*
 * Key layout. Every key of one lock name carries the name as a Redis Cluster
 * hash tag, so all of them fall into one slot (no CROSSSLOT, ever). The name
 * is escaped so that its own braces cannot end the tag early or leave it
 * empty, which would spread one lock's keys over several slots.
 *
 *   <prefix>pl:{<escaped name>}        the lock record
 *   <prefix>pl:{<escaped name>}:w      its wait flag, while a mutex() waiter listens (locker.ts)
 *   <prefix>pl:proc:<processHash>      one liveness record per process
 *   <prefix>pl:sem:{<escaped name>}    a semaphore's permits (a hash; src/semaphore-record.ts)
 *   <prefix>pl:sem:{<escaped name>}:w  its wait flag, while a waitAndRun() waiter listens
 *
 * A semaphore's keys start "pl:sem:{", a lock's "pl:{": a lock and a semaphore of one name never share a key,
 * yet share a hash tag (and so a cluster slot).
 */

/** Injective: `%`, `{` and `}` become %25, %7B and %7D, and nothing else changes. */
export function escapeLockName(name: string): string {
  // Most names need no escaping: a test is cheaper than a replace with a callback, on the hot path.
  return /[%{}]/.test(name) ? name.replace(/[%{}]/g, encodeURIComponent) : name;
}

export function lockKey(prefix: string, name: string): string {
  return `${prefix}pl:{${escapeLockName(name)}}`;
}

export function semaphoreKey(prefix: string, name: string): string {
  return `${prefix}pl:sem:{${escapeLockName(name)}}`;
}

export function processKey(prefix: string, processHash: string): string {
  return `${prefix}pl:proc:${processHash}`;
}

/** Throws a TypeError unless `key` is a non-empty string. Any characters are fine. */
export function assertLockName(key: unknown, method: string): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(`pulselock: ${method}() needs a non-empty string key, got ` + (typeof key === "string" ? "an empty string" : typeof key));
  }
}
