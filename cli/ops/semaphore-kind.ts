/*
 * Semaphore permits as `pulselock inspect` shows them: one row per held
 * permit, from the semaphore's hash (src/semaphore-record.ts: a field per
 * permit, "<processHash>|<seq>" → "<expiresAtMs>|<lock record>", and "t", the
 * last token). A permit whose expiresAt has passed is held by nobody (the
 * scripts drop it when they next meet it), so it is not shown.
 */
import { escapeLockName } from "../../src/keys";
import { decodePermit } from "../../src/semaphore-record";
import { waitFlagKey } from "../../src/wait-flag-key";
import { escapeGlob, lockNameOf, rowOf, type RecordKind, type Row } from "./lock-kind";
import { CHUNK } from "./store";

const PERMIT_EXPIRY = /^(\d{1,15})\|pl1\|/;

export const semaphoreKind: RecordKind = {
  pattern: (prefix, names) => `${escapeGlob(prefix)}pl:sem:{${escapeLockName(names)}}`,

  async read(store, prefix, keys, nowMs) {
    const rows: Row[] = [];
    let skipped = 0;
    const processHashes = new Set<string>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      // Pipelined (per node on a cluster): every field of each semaphore, and whether a waiter flagged it.
      const replies = await store.run(
        chunk.flatMap((k) => [
          ["HGETALL", k],
          ["EXISTS", waitFlagKey(k)],
        ]),
      );
      chunk.forEach((redisKey, j) => {
        const entries = replies[2 * j];
        const flagged = replies[2 * j + 1] === 1;
        const name = lockNameOf(prefix, redisKey, "pl:sem:");
        // Another type under a semaphore's key (a refused HGETALL), or a key that is not one: no permits to show.
        if (name === undefined || !Array.isArray(entries)) return void skipped++;
        for (let f = 0; f + 1 < entries.length; f += 2) {
          const [field, value] = [entries[f] as unknown, entries[f + 1] as unknown];
          if (field === "t") continue;
          const expiresAt = typeof value === "string" ? PERMIT_EXPIRY.exec(value) : null;
          let lockData;
          try {
            lockData = decodePermit(name, redisKey, value);
          } catch {
            skipped++;
            continue;
          }
          const expiresInMs = Number(expiresAt![1]) - nowMs;
          if (expiresInMs <= 0) continue; // expired: nobody holds it
          processHashes.add(lockData.processHash);
          rows.push(rowOf("permit", name, redisKey, lockData, nowMs, expiresInMs, flagged));
        }
      });
    }
    return { rows, skipped, processHashes: [...processHashes] };
  },
};
