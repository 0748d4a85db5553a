// Reads pulselock's records straight from Redis (not through any proxy): who
// holds a key, and whether that holder's liveness record still exists.
// Record layout, defined in src/lock-record.ts: pl1|token|acquiredAtMs|extendedAtMs|processHash|seq|#trace.
// Read here on purpose without the library's own decoder: the checker must not share a bug with what it checks.

export const lockKey = (key) => `pl:{${key.replace(/%/g, "%25").replace(/\{/g, "%7B").replace(/\}/g, "%7D")}}`;

/** { processHash, seq, token, alive } of the key's holder, or null when the key is free. */
export async function readHolder(admin, key) {
  const raw = await admin.get(lockKey(key));
  // A release's tombstone (pl1t|token, about a millisecond) holds no lock.
  if (raw === null || /^pl1t\|\d+$/.test(raw)) return null;
  const [, token, , , processHash, seq] = raw.split("|");
  const alive = (await admin.exists(`pl:proc:${processHash}`)) === 1;
  return { processHash, seq, token: Number(token), alive, raw };
}

/** Retries `fn` while Redis is down (a restart fault may be under way), up to timeoutMs. */
export async function whileRedisUp(fn, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
