import { describe, expect, it } from "vitest";
import { CorruptRecordError, isCorruptRecordError } from "../../src/errors";
import { decodeLockRecord, encodeTraceField, formatOwnerHash, parseOwnerHash } from "../../src/lock-record";

const PH = "0123456789abcdef0123456789abcdef";
const PH2 = "fedcba9876543210fedcba9876543210";

const KEYS = [
  "job",
  "a@b",
  "@",
  "@@",
  "@start",
  "end@",
  `k@${PH}`, // looks like an owner hash prefix, but has no ".seq"
  `k@${PH}.`, // ditto, no digits
  "a#b",
  "#",
  "a.b.c",
  ".",
  "a|b|c",
  "|",
  "{",
  "}",
  "{}",
  "}{",
  "{a}",
  "with space",
  " ",
  "line\nbreak",
  "\n",
  "trailing\n",
  "tab\tand\r\n",
  "emoji 🔒🚀",
  "非ASCII-ключ-ü",
  "\u0000nul",
  "a@b#c.d|e{f}g h",
];

const TRACES: Array<string | undefined> = [
  undefined,
  "",
  "trace",
  "user@example.com",
  "#hash#tag",
  `x@${PH2}.7`,
  `@${PH2}.7#more`,
  "multi\nline\ntrace",
  "pipes|in|trace",
  "🔥",
];

describe("formatOwnerHash / parseOwnerHash", () => {
  it("formats as key@processHash.seq[#trace]", () => {
    expect(formatOwnerHash({ key: "job", processHash: PH, seq: "3" })).toBe(`job@${PH}.3`);
    expect(formatOwnerHash({ key: "job", processHash: PH, seq: "3", trace: "t" })).toBe(`job@${PH}.3#t`);
    expect(formatOwnerHash({ key: "job", processHash: PH, seq: "3", trace: "" })).toBe(`job@${PH}.3#`);
  });

  for (const key of KEYS) {
    it(`round-trips key ${JSON.stringify(key)} with every trace`, () => {
      for (const trace of TRACES) {
        for (const seq of ["0", "1", "42", "9007199254740993"]) {
          const parts = { key, processHash: PH, seq, ...(trace === undefined ? {} : { trace }) };
          const hash = formatOwnerHash(parts);
          const parsed = parseOwnerHash(hash);
          expect(parsed, hash).toEqual(parts);
          // No `trace: undefined` property when there is no trace.
          if (trace === undefined) expect(parsed && "trace" in parsed).toBe(false);
        }
      }
    });
  }

  it("returns undefined for non-strings", () => {
    for (const v of [undefined, null, 1, {}, [], Symbol("x"), () => "a@b", new String(`k@${PH}.1`)]) {
      expect(parseOwnerHash(v)).toBeUndefined();
    }
  });

  it("returns undefined for malformed owner hashes", () => {
    const bad = [
      "",
      "job",
      "@",
      `@${PH}.1`, // empty key
      `job${PH}.1`, // no @
      `job@${PH}`, // no seq
      `job@${PH}.`, // empty seq
      `job@${PH}.x`, // seq not digits
      `job@${PH}.-1`,
      `job@${PH}.1.2`,
      `job@${PH}.1 `, // trailing garbage without #
      `job@${PH}.1\n`, // a trailing newline is garbage too
      `job@${PH.slice(1)}.1`, // 31 hex
      `job@${PH}0.1`, // 33 hex
      `job@${PH.toUpperCase()}.1`, // upper-case hex
      `job@${PH.slice(0, 31)}g.1`, // not hex
      `job@.1`,
      `job@@.1`,
    ];
    for (const h of bad) expect(parseOwnerHash(h), JSON.stringify(h)).toBeUndefined();
  });
});

describe("encodeTraceField", () => {
  it("is empty for no trace and #trace otherwise", () => {
    expect(encodeTraceField(undefined)).toBe("");
    expect(encodeTraceField("")).toBe("#");
    expect(encodeTraceField("a|b#c")).toBe("#a|b#c");
  });
});

describe("decodeLockRecord", () => {
  const acq = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
  const ext = acq + 60_000;
  const token = 1_704_164_645_678_901;

  it("parses a record without a trace", () => {
    const d = decodeLockRecord("job", "pl:{job}", `pl1|${token}|${acq}|${ext}|${PH}|7|`);
    expect(d).toEqual({
      ownerHash: `job@${PH}.7`,
      processHash: PH,
      acquiredAt: "2024-01-02T03:04:05.678Z",
      extendedAt: "2024-01-02T03:05:05.678Z",
      fencingToken: token,
    });
    expect("trace" in d).toBe(false);
    expect(typeof d.fencingToken).toBe("number");
  });

  it("parses a record with a trace that contains the separator, # and @", () => {
    const trace = "a|b#c@d\nline2|";
    const d = decodeLockRecord("job", "pl:{job}", `pl1|5|${acq}|${ext}|${PH}|12|${encodeTraceField(trace)}`);
    expect(d.trace).toBe(trace);
    expect(d.fencingToken).toBe(5);
    expect(d.ownerHash).toBe(`job@${PH}.12#${trace}`);
    expect(parseOwnerHash(d.ownerHash)).toEqual({ key: "job", processHash: PH, seq: "12", trace });
  });

  it("parses an empty trace (#) as an empty-string trace", () => {
    const d = decodeLockRecord("job", "pl:{job}", `pl1|5|${acq}|${ext}|${PH}|1|#`);
    expect(d.trace).toBe("");
    expect(d.ownerHash).toBe(`job@${PH}.1#`);
  });

  it("derives the owner hash from the lock name, which is not stored", () => {
    for (const key of KEYS) {
      const d = decodeLockRecord(key, `pl:{${key}}`, `pl1|1|${acq}|${acq}|${PH}|3|#t`);
      expect(d.ownerHash).toBe(formatOwnerHash({ key, processHash: PH, seq: "3", trace: "t" }));
      expect(parseOwnerHash(d.ownerHash)).toEqual({ key, processHash: PH, seq: "3", trace: "t" });
    }
  });

  function expectCorrupt(raw: unknown, redisKey = "pfx:pl:{job}") {
    let thrown: unknown;
    try {
      decodeLockRecord("job", redisKey, raw);
    } catch (e) {
      thrown = e;
    }
    expect(thrown, `no error for ${String(raw)}`).toBeInstanceOf(CorruptRecordError);
    const e = thrown as CorruptRecordError;
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("CorruptRecordError");
    expect(isCorruptRecordError(e)).toBe(true);
    expect(e.redisKey).toBe(redisKey);
    expect(e.value).toBe(raw);
    expect(e.message).toContain(JSON.stringify(redisKey));
  }

  it("throws CorruptRecordError for garbage strings", () => {
    for (const raw of [
      "",
      "garbage",
      "OK",
      "pl1",
      "pl1|",
      `pl1|1|${acq}|${ext}|${PH}|7`, // no trace field separator
      `pl1|x|${acq}|${ext}|${PH}|7|`, // token not digits
      `pl1|-1|${acq}|${ext}|${PH}|7|`,
      `pl1|1.5|${acq}|${ext}|${PH}|7|`,
      `pl1||${acq}|${ext}|${PH}|7|`,
      `pl1|1|now|${ext}|${PH}|7|`,
      `pl1|1|${acq}||${PH}|7|`,
      `pl1|1|${acq}|${ext}|${PH}||`,
      `pl1|1|${acq}|${ext}|${PH}|x|`,
      ` pl1|1|${acq}|${ext}|${PH}|7|`,
      `{"owner":"someone"}`,
    ]) {
      expectCorrupt(raw);
    }
  });

  it("throws CorruptRecordError for a wrong version prefix", () => {
    for (const v of ["pl0", "pl2", "PL1", "pl", "pl11", "xpl1"]) {
      expectCorrupt(`${v}|1|${acq}|${ext}|${PH}|7|`);
    }
  });

  it("throws CorruptRecordError for non-strings and numbers", () => {
    for (const raw of [null, undefined, 0, 42, 1.5, NaN, true, {}, [`pl1|1|${acq}|${ext}|${PH}|7|`], 10n]) {
      expectCorrupt(raw);
    }
  });

  it("throws CorruptRecordError (not RangeError) for timestamps that are no valid date", () => {
    // 20 digits match \d+ but are far beyond the largest Date (8.64e15 ms).
    expectCorrupt(`pl1|1|99999999999999999999|${ext}|${PH}|7|`);
    expectCorrupt(`pl1|1|${acq}|99999999999999999999|${PH}|7|`);
  });

  it("throws CorruptRecordError for a fencing token beyond Number.MAX_SAFE_INTEGER", () => {
    // pulselock writes µs timestamps (~1.7e15); a larger token cannot be represented exactly
    // as the documented `fencingToken: number`, so comparisons against it would be wrong.
    expectCorrupt(`pl1|99999999999999999999|${acq}|${ext}|${PH}|7|`);
    expect(decodeLockRecord("job", "k", `pl1|${Number.MAX_SAFE_INTEGER}|${acq}|${ext}|${PH}|7|`).fencingToken).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("throws CorruptRecordError when the processHash is not 32 lower-case hex digits", () => {
    // Otherwise it hands out an ownerHash that its own parseOwnerHash() rejects
    // (readOwnerHashStatus() would call it MALFORMED_OWNER_HASH).
    for (const ph of ["", "abc", PH.toUpperCase(), PH + "0", "zz" + PH.slice(2)]) {
      expectCorrupt(`pl1|1|${acq}|${ext}|${ph}|7|`);
    }
  });

  it("throws CorruptRecordError when the trace field is neither empty nor #trace", () => {
    expectCorrupt(`pl1|1|${acq}|${ext}|${PH}|7|notatrace`);
  });
});
