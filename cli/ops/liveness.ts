/*
 * The owners' liveness records: present means the owner's process wrote it
 * within reportTtlMs (alive); its value says who the process is ("host:pid"
 * on Node and Bun, see adapters/node/thread-liveness.ts).
 */
import { processKey } from "../../src/keys";
import { CHUNK, type Store } from "./store";

/**
 * What an owner's liveness key says: its record's value (the process is alive), null when the key is gone (the process
 * is dead), or UNKNOWN when the key holds a value of another type, which pulselock never writes: whether the process
 * lives cannot be told (the library and `release` refuse such an owner's lock too).
 */
export const UNKNOWN = Symbol("liveness unknown");
export type OwnerLiveness = string | null | typeof UNKNOWN;

/** For each process hash, what its liveness key says (see OwnerLiveness). */
export async function readLiveness(store: Store, prefix: string, processHashes: string[]): Promise<Map<string, OwnerLiveness>> {
  const out = new Map<string, OwnerLiveness>();
  for (let i = 0; i < processHashes.length; i += CHUNK) {
    const chunk = processHashes.slice(i, i + CHUNK);
    const keys = chunk.map((hash) => processKey(prefix, hash));
    // One MGET per chunk where the keys may span any slot (a single Redis, Upstash); on a cluster one GET each, pipelined per node.
    const replies = store.isCluster ? await store.run(keys.map((key) => ["GET", key])) : ((await store.run([["MGET", ...keys]]))[0] as unknown[]);
    // MGET answers nil for a value of another type too: those keys are asked their TYPE (a GET answers WRONGTYPE).
    const missing = store.isCluster ? [] : keys.filter((_, j) => replies[j] == null);
    const types = new Map(missing.length ? (await store.run(missing.map((key) => ["TYPE", key]))).map((type, j) => [missing[j]!, type]) : []);
    chunk.forEach((hash, j) => {
      const reply = replies[j];
      const type = types.get(keys[j]!);
      out.set(hash, typeof reply === "string" ? reply : reply instanceof Error || (type !== undefined && type !== "none") ? UNKNOWN : null);
    });
  }
  return out;
}

/** Redis's own clock in ms: every time in a lock record is Redis TIME, so ages are measured on it, not on this machine's clock. */
export async function redisNowMs(store: Store): Promise<number> {
  const [time] = await store.run([["TIME"]]);
  if (!Array.isArray(time)) return Date.now();
  return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
}
