import { describe, expect, it } from "vitest";
import { RedisDatabase } from "../../src/database";
import { SemaphoreBatches } from "../../src/semaphore-batches";
import type { Transport } from "../../src/transport";

const PROCESS_HASH = "0123456789abcdef0123456789abcdef";
const NOW_US = 1_700_000_000_000_000;

/** A transport that answers every SEMAPHORE_ACQUIRE at once (each permit taken at the batch's time) and records each call's permits. */
function recordingTransport(calls: number[]): Transport {
  const evalsha = (_sha: string, _keys: string[], args: string[]) => {
    calls.push(args.length - 3);
    return Promise.resolve([NOW_US, ...args.slice(3).map(() => 1)]);
  };
  return { kind: "fake", clientKeyPrefix: "", evalsha, eval: (_source, keys, args) => evalsha("", keys, args) };
}

describe("SemaphoreBatches", () => {
  it("64 acquisitions of one task leave as two calls of 32, both at once, so that one's callers run while Redis works on the other (the Batcher's split)", async () => {
    const calls: number[] = [];
    const batches = new SemaphoreBatches(new RedisDatabase(recordingTransport(calls)), { lockTtlMs: 60_000, lockRecheckMs: 5_000, requestScoped: false });
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        batches.acquire({
          redisKey: `pl:sem:{k${i}}`,
          owner: { key: `k${i}`, processHash: PROCESS_HASH, seq: String(i + 1), trace: undefined },
          limit: 3,
          waitFlagMs: "",
          victims: [],
        }),
      ),
    );
    expect(calls).toEqual([32, 32]);
    expect(outcomes.every((o) => o.kind === "taken" && o.token === NOW_US && o.ms === NOW_US / 1000)).toBe(true);
  });
});
