import { describe, expect, it } from "vitest";
import { isCorruptRecordError, isRedisCommandError } from "../../src/errors";
import { acquireCall, decodeAcquireReply } from "../../src/scripts/acquire";
import { decodeExtendReply, extendArgs } from "../../src/scripts/extend";
import { decodeReadReply } from "../../src/scripts/read";
import { decodeReleaseReply, releaseCall, releaseResult } from "../../src/scripts/release";
import { reportArgs, reportLapsed } from "../../src/scripts/report";
import { LockStatus } from "../../src/statuses";

/** The wire format of each script as its encoder writes it and its decoder reads it (src/scripts/*.ts). */
const U = 1_795_735_309_361_610;
const MS = Math.floor(U / 1000);
const PH = "a".repeat(32);
const code = (e: unknown) => (isRedisCommandError(e) ? e.code : `not a RedisCommandError: ${String(e)}`);

describe("acquireCall", () => {
  it("short form 'seq|traceField' without a flag key, full form '!seq|victimSeq|waitFlagMs|victimProcessHash|traceField' with one; the liveness key last", () => {
    const call = acquireCall(
      [
        { redisKey: "pl:{a}", processHash: PH, seq: "1", trace: undefined, waitFlagMs: "" },
        { redisKey: "pl:{b}", processHash: PH, seq: "2", trace: "x|y", waitFlagMs: "" },
        { redisKey: "pl:{c}", processHash: PH, seq: "3", trace: "t", waitFlagMs: "900" },
        { redisKey: "pl:{d}", processHash: PH, seq: "4", trace: undefined, victim: { processHash: "b".repeat(32), seq: "7" }, waitFlagMs: "" },
      ],
      "60000",
      "pl:p:live",
    );
    expect(call.keys).toEqual(["pl:{a}", "pl:{b}", "pl:{c}", "pl:{c}:w", "pl:{d}", "pl:{d}:w", "pl:p:live"]);
    expect(call.args).toEqual([PH, "60000", "1", "1|", "2|#x|y", "!3||900||#t", `!4|7||${"b".repeat(32)}|`]);
  });

  it("on a cluster (no liveness key): ARGV[3] is empty and no key follows the locks", () => {
    const call = acquireCall([{ redisKey: "pl:{a}", processHash: PH, seq: "1", trace: "", waitFlagMs: "" }], "5", undefined);
    expect(call).toEqual({ keys: ["pl:{a}"], args: [PH, "5", "", "1|#"] });
  });
});

describe("decodeAcquireReply", () => {
  it("splits {µs, entries…}: 1 is the batch's time as token, a larger integer is its own token, a string is the holder's value", () => {
    const [a, b, c] = decodeAcquireReply([U, 1, U + 7, "pl1|5|1|1|x|1|"], 3);
    expect(a).toEqual({ kind: "taken", token: U, ms: MS });
    expect(b).toEqual({ kind: "taken", token: U + 7, ms: MS });
    expect(c).toEqual({ kind: "held", record: "pl1|5|1|1|x|1|" });
  });

  it("answers lapsed for every lock when the liveness record is gone ({-2})", () => {
    expect(decodeAcquireReply([-2], 3)).toEqual([{ kind: "lapsed" }, { kind: "lapsed" }, { kind: "lapsed" }]);
  });

  it("turns {-3, error} into that lock's own RedisCommandError and an entry of the wrong type into its own BAD_RESPONSE", () => {
    const [bad, odd, fine] = decodeAcquireReply([U, [-3, "WRONGTYPE Operation against a key holding the wrong kind of value"], null, 1], 3);
    expect(code(bad)).toBe("WRONGTYPE");
    expect(code(odd)).toBe("BAD_RESPONSE");
    expect(fine).toEqual({ kind: "taken", token: U, ms: MS });
    for (const wrong of [0, -1, 1.5, 2 ** 53, true, {}, [1]]) expect(code(decodeAcquireReply([U, wrong], 1)[0])).toBe("BAD_RESPONSE");
  });

  it.each([null, "x", [], [U], [U, 1, 1], ["1795735309361610", 1], [0, 1], [2 ** 53, 1], [-2, 1]])(
    "throws BAD_RESPONSE for a whole reply of the wrong shape: %j",
    (reply) => {
      expect(() => decodeAcquireReply(reply, 1)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
    },
  );
});

describe("releaseCall and decodeReleaseReply", () => {
  it("per lock its key and wait flag; the publish mode, the processHash once, then each lock's seq", () => {
    const owner = { processHash: PH, seq: "9" };
    expect(
      releaseCall(
        [
          { key: "a", redisKey: "pl:{a}", owner },
          { key: "b", redisKey: "pl:{b}", owner: { processHash: PH, seq: "10" } },
        ],
        "2",
      ),
    ).toEqual({
      keys: ["pl:{a}", "pl:{a}:w", "pl:{b}", "pl:{b}:w"],
      args: ["2", PH, "9", "10"],
    });
    // One call holds one process's locks (the release batches group by processHash).
    expect(() =>
      releaseCall(
        [
          { key: "a", redisKey: "pl:{a}", owner },
          { key: "b", redisKey: "pl:{b}", owner: { processHash: "f".repeat(32), seq: "1" } },
        ],
        "1",
      ),
    ).toThrow(/one processHash/);
  });

  it("passes each entry on and turns {-3, error} into that lock's own error", () => {
    const [a, b, c, d] = decodeReleaseReply([1, -1, "pl1|5|1|1|x|1|", [-3, "WRONGTYPE no"]], 4);
    expect([a, b, c]).toEqual([1, -1, "pl1|5|1|1|x|1|"]);
    expect(code(d)).toBe("WRONGTYPE");
  });

  it.each([null, {}, [1], [1, 1, 1]])("throws BAD_RESPONSE for a reply of the wrong length or type: %j", (reply) => {
    expect(() => decodeReleaseReply(reply, 2)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
  });

  it("releaseResult: 1 released, -1 no key, a record someone else's; anything else throws", () => {
    const held = `pl1|5|1700000000000|1700000000000|${PH}|3|#t`;
    expect(releaseResult("a", "pl:{a}", 1)).toEqual({ status: LockStatus.SUCCESS, lockData: null });
    expect(releaseResult("a", "pl:{a}", -1)).toEqual({ status: LockStatus.NO_KEY, lockData: null });
    expect(releaseResult("a", "pl:{a}", held)).toMatchObject({
      status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK,
      lockData: { fencingToken: 5, processHash: PH, trace: "t" },
    });
    expect(() => releaseResult("a", "pl:{a}", 0)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
    expect(() => releaseResult("a", "pl:{a}", "garbage")).toThrow(expect.objectContaining({ name: "CorruptRecordError" }));
  });
});

describe("extend, read, report", () => {
  it("extendArgs and decodeExtendReply", () => {
    const held = `pl1|5|1700000000000|1700000000001|${PH}|3|`;
    expect(extendArgs({ processHash: PH, seq: "3" }, 30_000)).toEqual([PH, "3", "30000"]);
    expect(decodeExtendReply("a", "pl:{a}", [1, held])).toMatchObject({ status: LockStatus.SUCCESS, lockData: { fencingToken: 5 } });
    expect(decodeExtendReply("a", "pl:{a}", [0, held])).toMatchObject({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: { fencingToken: 5 } });
    expect(decodeExtendReply("a", "pl:{a}", [-1])).toEqual({ status: LockStatus.NO_KEY, lockData: null });
    for (const wrong of [null, 1, [2, held], ["1", held]])
      expect(() => decodeExtendReply("a", "pl:{a}", wrong)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
    let corrupt: unknown;
    try {
      decodeExtendReply("a", "pl:{a}", [1]);
    } catch (error) {
      corrupt = error;
    }
    expect(isCorruptRecordError(corrupt)).toBe(true);
  });

  it("decodeReadReply: a string, null, a tombstone as null; anything else throws BAD_RESPONSE", () => {
    expect(decodeReadReply("v")).toBe("v");
    expect(decodeReadReply(null)).toBeNull();
    expect(decodeReadReply("pl1t|12")).toBeNull();
    expect(decodeReadReply("pl1t|12x")).toBe("pl1t|12x");
    for (const wrong of [1, [], {}]) expect(() => decodeReadReply(wrong)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
  });

  it("reportArgs and reportLapsed: XX only on a rewrite, and only a rewrite's nil is a lapse", () => {
    expect(reportArgs("d", 5000, false)).toEqual(["d", "5000", ""]);
    expect(reportArgs("d", 5000, true)).toEqual(["d", "5000", "XX"]);
    expect(reportLapsed(null, true)).toBe(true);
    expect(reportLapsed(null, false)).toBe(false);
    expect(reportLapsed("OK", true)).toBe(false);
  });
});
