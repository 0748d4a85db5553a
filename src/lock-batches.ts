// TEMPORARY (lead): replaced by the scripts helper's module at merge.
import { Batcher } from "./batcher";
import type { RedisDatabase } from "./database";
import { RedisCommandError } from "./errors";
import { LAPSED, acquireReplies, releaseReplies, type AcquireReply } from "./batch-replies";
import { encodeTraceField } from "./lock-record";
import { ACQUIRE } from "./scripts/acquire";
import { RELEASE } from "./scripts/release";
import { withTimeout } from "./timers";

export const waitFlagKey = (lockKey: string): string => `${lockKey}:w`;

export function publishMode(db: RedisDatabase): string {
  return !db.transport.openSubscriber ? "0" : db.transport.isCluster ? "2" : "1";
}

export type AcquireOutcome = { kind: "lapsed" } | { kind: "taken"; token: number; ms: string } | { kind: "held"; record: string };

interface BatchEntry {
  key: string;
  flag?: string;
  arg: string;
  processHash?: string;
}

const MAX_BATCH = 100;
const MAX_BATCHES_IN_FLIGHT = 2;

function batchCall(entries: BatchEntry[], head: string[]): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = head;
  for (const e of entries) {
    keys.push(e.key);
    if (e.flag !== undefined) keys.push(e.flag);
    args.push(e.arg);
  }
  return { keys, args };
}

export class LockBatches {
  readonly #acquire: Batcher<BatchEntry, AcquireReply>;
  readonly #release: Batcher<BatchEntry, unknown>;

  constructor(db: RedisDatabase, options: { lockTtlMs: number; lockRecheckMs: number; requestScoped: boolean }) {
    const cluster = !!db.transport.isCluster;
    const [size, inFlight] = cluster ? [1, Infinity] : [MAX_BATCH, MAX_BATCHES_IN_FLIGHT];
    const ttl = String(options.lockTtlMs);
    const scope = options.requestScoped ? "request" : "turn";
    this.#acquire = new Batcher<BatchEntry, AcquireReply>(
      async (entries) => {
        const processHash = entries[0]!.processHash!;
        const { keys, args } = batchCall(entries, [processHash, ttl, cluster ? "" : "1"]);
        if (!cluster) keys.push(db.processKey(processHash));
        return acquireReplies(await db.run(ACQUIRE, keys, args), entries.length);
      },
      (first, entry) => entry.processHash === first.processHash,
      size,
      inFlight,
      scope,
    );
    const timeoutMs = options.lockRecheckMs;
    this.#release = new Batcher<BatchEntry, unknown>(
      async (entries) => {
        const { keys, args } = batchCall(entries, [publishMode(db)]);
        const reply = await withTimeout(
          db.run(RELEASE, keys, args),
          timeoutMs,
          () => new RedisCommandError("release", "TIMEOUT", true, `no reply within ${timeoutMs} ms`),
        );
        return releaseReplies(reply, entries.length);
      },
      () => true,
      size,
      inFlight,
      scope,
    );
  }

  async acquire(r: { redisKey: string; processHash: string; seq: string; trace: string | undefined; victim?: { processHash: string; seq: string }; waitFlagMs: string }): Promise<AcquireOutcome> {
    const traceField = encodeTraceField(r.trace);
    const full = !!(r.victim || r.waitFlagMs);
    const arg = full ? `${r.seq}|${r.victim?.seq ?? ""}|${r.waitFlagMs}|${r.victim?.processHash ?? ""}|${traceField}` : `:${r.seq}|${traceField}`;
    const res = await this.#acquire.call({ processHash: r.processHash, key: r.redisKey, flag: full ? waitFlagKey(r.redisKey) : undefined, arg });
    if (res === LAPSED) return { kind: "lapsed" };
    if (typeof res === "string") return { kind: "held", record: res };
    return { kind: "taken", token: res.token, ms: res.ms };
  }

  release(r: { redisKey: string; owner: { processHash: string; seq: string } }): Promise<unknown> {
    return this.#release.call({ key: r.redisKey, flag: waitFlagKey(r.redisKey), arg: `${r.owner.processHash}|${r.owner.seq}` });
  }
}
