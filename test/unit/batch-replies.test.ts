import { describe, expect, it } from "vitest";
import { LAPSED, acquireReplies, releaseReplies } from "../../src/batch-replies";
import { isRedisCommandError } from "../../src/errors";

const U = 1_795_735_309_361_610;
const code = (e: unknown) => (isRedisCommandError(e) ? e.code : `not a RedisCommandError: ${String(e)}`);

describe("acquireReplies", () => {
  it("splits {µs, entries…}: 1 is the batch's time as token, a larger integer is its own token, a string is the holder's value", () => {
    const [a, b, c] = acquireReplies([U, 1, U + 7, "pl1|5|1|1|x|1|"], 3);
    expect(a).toEqual({ token: U, ms: String(Math.floor(U / 1000)) });
    expect(b).toEqual({ token: U + 7, ms: String(Math.floor(U / 1000)) });
    expect(c).toBe("pl1|5|1|1|x|1|");
  });

  it("answers LAPSED for every lock when the liveness record is gone ({-2})", () => {
    expect(acquireReplies([-2], 3)).toEqual([LAPSED, LAPSED, LAPSED]);
  });

  it("turns {-3, error} into that lock's own RedisCommandError and an entry of the wrong type into its own BAD_RESPONSE", () => {
    const [bad, odd, fine] = acquireReplies([U, [-3, "WRONGTYPE Operation against a key holding the wrong kind of value"], null, 1], 3);
    expect(code(bad)).toBe("WRONGTYPE");
    expect(code(odd)).toBe("BAD_RESPONSE");
    expect(fine).toEqual({ token: U, ms: String(Math.floor(U / 1000)) });
    for (const wrong of [0, -1, 1.5, 2 ** 53, true, {}, [1]]) expect(code(acquireReplies([U, wrong], 1)[0])).toBe("BAD_RESPONSE");
  });

  it.each([null, "x", [], [U], [U, 1, 1], ["1795735309361610", 1], [0, 1], [2 ** 53, 1], [-2, 1]])("throws BAD_RESPONSE for a whole reply of the wrong shape: %j", (reply) => {
    expect(() => acquireReplies(reply, 1)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
  });
});

describe("releaseReplies", () => {
  it("passes each entry on and turns {-3, error} into that lock's own error", () => {
    const [a, b, c, d] = releaseReplies([1, -1, "pl1|5|1|1|x|1|", [-3, "WRONGTYPE no"]], 4);
    expect([a, b, c]).toEqual([1, -1, "pl1|5|1|1|x|1|"]);
    expect(code(d)).toBe("WRONGTYPE");
  });

  it.each([null, {}, [1], [1, 1, 1]])("throws BAD_RESPONSE for a reply of the wrong length or type: %j", (reply) => {
    expect(() => releaseReplies(reply, 2)).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
  });
});
