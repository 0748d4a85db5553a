import { Batcher } from "./batcher";
import type { RedisDatabase } from "./database";
import type { Ended } from "./ended";
import { RedisCommandError } from "./errors";
import type { LuaScript } from "./scripts/script";
import { withTimeout } from "./timers";

/**
 * Batching (see Batcher): a batch of 100 keeps one script under ~0.5 ms of
 * Redis time, and with 2 batches in flight a second one can leave while the
 * first is out, so that calls do not queue behind a slow HTTP round trip for
 * long. Smaller batches with more in flight were measured and not faster
 * (docs/benchmarks.md).
 */
export const MAX_BATCH = 100;
const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * The Batcher of one script's calls on `db`, as every batched call of a Locker is shaped: up to `maxSize` entries
 * (or keys, when `sizeOf` counts an entry's keys) per call and 2 calls in flight; one entry per call on a cluster, where keys of several slots cannot share a
 * script; batches of one request only where requests are scoped (Cloudflare Workers). When `stop` ends, every call
 * not answered yet rejects with its reason (for the calls that take locks: terminate() must not leave one pending).
 */
export function scriptBatcher<E, R>(
  db: RedisDatabase,
  requestScoped: boolean,
  send: (entries: E[]) => Promise<(R | Error)[]>,
  sameBatch: (first: E, entry: E) => boolean,
  { maxSize = MAX_BATCH, sizeOf, stop }: { maxSize?: number; sizeOf?: (entry: E) => number; stop?: Ended } = {},
): Batcher<E, R> {
  const cluster = !!db.transport.isCluster;
  const batcher = new Batcher<E, R>(
    send,
    sameBatch,
    cluster ? 1 : maxSize,
    cluster ? Infinity : MAX_BATCHES_IN_FLIGHT,
    requestScoped ? "request" : "turn",
    sizeOf,
  );
  stop?.listen((reason) => batcher.failAll(reason));
  return batcher;
}

/**
 * A release script's call, bounded by `timeoutMs` (one timer per batch): a release that times out and lands later
 * is harmless, since it frees only the caller's own hold.
 */
export function boundedRelease(db: RedisDatabase, script: LuaScript, keys: string[], args: string[], timeoutMs: number): Promise<unknown> {
  return withTimeout(db.run(script, keys, args), timeoutMs, () => new RedisCommandError(script.name, "TIMEOUT", true, `no reply within ${timeoutMs} ms`));
}
