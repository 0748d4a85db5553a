import { clusterSlot } from "./cluster-slot";
import type { RedisDatabase } from "./database";
import { describe } from "./describe-value";

/**
 * At most this many keys in one multi-key lock. A set is taken by one script
 * call (per slot group on a cluster), which holds Redis's single thread while
 * it reads and writes every key: 100 keeps it under ~0.5 ms, as for the
 * acquire batches (src/lock-batches.ts), and keeps one Upstash request body
 * small. A job that needs more keys than that wants a coarser lock name.
 */
export const MAX_KEYS_PER_SET = 100;

/**
 * Checks a multi-key lock's key set before any Redis call: an array of 1 to
 * MAX_KEYS_PER_SET non-empty strings, no two alike (a duplicate would make
 * the set hold one key twice, or refuse itself). Alike as Redis sees them:
 * two names that differ only in lone surrogates are one key once encoded.
 * Each problem is a TypeError that names it.
 */
export function assertKeySet(keys: unknown, method: string): asserts keys is readonly string[] {
  const bad = (what: string) => new TypeError(`pulselock: ${method}() ${what}`);
  if (!Array.isArray(keys)) throw bad(`needs an array of lock names, got ${describe(keys)}`);
  if (keys.length === 0) throw bad("needs at least one lock name, got an empty array");
  if (keys.length > MAX_KEYS_PER_SET) {
    throw bad(`takes at most ${MAX_KEYS_PER_SET} lock names in one set (one script call holds Redis while it takes them), got ${keys.length}`);
  }
  const seen = new Map<string, string>();
  // Indexed, not forEach: a sparse array's holes must be refused, not skipped.
  for (let i = 0; i < keys.length; i++) {
    const key: unknown = keys[i];
    if (typeof key !== "string" || key.length === 0) {
      throw bad(`needs non-empty string lock names, got ${typeof key === "string" ? "an empty string" : `${describe(key)} (${typeof key})`} at index ${i}`);
    }
    // Redis gets names as UTF-8, where a lone surrogate becomes U+FFFD (a runtime without toWellFormed compares as is).
    const asRedisSeesIt = (key as { toWellFormed?: () => string }).toWellFormed?.() ?? key;
    const earlier = seen.get(asRedisSeesIt);
    if (earlier !== undefined) {
      const as = earlier === key ? "" : ` (as ${JSON.stringify(earlier)}, in UTF-8)`;
      throw bad(`got the lock name ${JSON.stringify(key)} twice${as} (at index ${i}): each key of a set must differ`);
    }
    seen.set(asRedisSeesIt, key);
  }
}

/**
 * The order in which a set is taken, as groups that one script call can take
 * atomically. A single Redis: one group. A cluster: one group per hash slot,
 * the groups by slot and the keys in a group by name, so that every caller
 * takes overlapping sets in the same global order.
 */
export function slotGroups(db: RedisDatabase, keys: readonly string[]): string[][] {
  if (!db.transport.isCluster) return [[...keys]];
  const bySlot = new Map<number, string[]>();
  for (const key of keys) {
    const slot = clusterSlot(db.transport.clientKeyPrefix + db.lockKey(key));
    const group = bySlot.get(slot);
    if (group) group.push(key);
    else bySlot.set(slot, [key]);
  }
  return [...bySlot.entries()].sort(([a], [b]) => a - b).map(([, group]) => group.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
}
