/*
 * The owners' liveness records: present means the owner's process wrote it
 * within reportTtlMs (alive); its value says who the process is ("host:pid"
 * on Node and Bun, see adapters/node/thread-liveness.ts).
 */
import { processKey } from "../../src/keys";
import { CHUNK, type Store } from "./store";

/** For each process hash, its liveness record's value, or null when the record is gone (the process is dead). */
export async function readLiveness(store: Store, prefix: string, processHashes: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < processHashes.length; i += CHUNK) {
    const chunk = processHashes.slice(i, i + CHUNK);
    const keys = chunk.map((hash) => processKey(prefix, hash));
    // One MGET per chunk where the keys may span any slot (a single Redis, Upstash); on a cluster one GET each, pipelined per node.
    const replies = store.isCluster ? await store.run(keys.map((key) => ["GET", key])) : ((await store.run([["MGET", ...keys]]))[0] as unknown[]);
    chunk.forEach((hash, j) => out.set(hash, typeof replies[j] === "string" ? (replies[j] as string) : null));
  }
  return out;
}

/** Redis's own clock in ms: every time in a lock record is Redis TIME, so ages are measured on it, not on this machine's clock. */
export async function redisNowMs(store: Store): Promise<number> {
  const [time] = await store.run([["TIME"]]);
  if (!Array.isArray(time)) return Date.now();
  return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
}
