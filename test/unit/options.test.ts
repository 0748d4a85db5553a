import { describe, expect, it } from "vitest";
import { RedisDatabase } from "../../src/database";
import { DEFAULTS } from "../../src/defaults";
import { resolveOptions, type LockerOptions } from "../../src/options";
import type { Transport } from "../../src/transport";

const ref = { moduleName: "/abs/path/db.js", exportName: "db" };

const TIMING = ["reportWriteMs", "reportTtlMs", "reporterWorkerSpawnTimeoutMs", "lockRecheckMs", "lockExtendMs", "lockTtlMs"] as const;

function fakeTransport(): Transport {
  return {
    kind: "fake",
    clientKeyPrefix: "",
    evalsha: async () => null,
    eval: async () => null,
  };
}

function captureTypeError(fn: () => unknown): TypeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError);
    return e as TypeError;
  }
  throw new Error("expected a TypeError, nothing was thrown");
}

describe("DEFAULTS", () => {
  it("is frozen", () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(() => {
      (DEFAULTS as { reportTtlMs: number }).reportTtlMs = 1;
    }).toThrow(TypeError); // ESM modules are strict mode
    expect(DEFAULTS.reportTtlMs).toBe(10000);
  });

  it("has the documented values", () => {
    expect(DEFAULTS.reportWriteMs).toBe(2000);
    expect(DEFAULTS.reportTtlMs).toBe(10000);
    expect(DEFAULTS.reporterWorkerSpawnTimeoutMs).toBe(15000);
    expect(DEFAULTS.lockRecheckMs).toBe(5000);
    expect(DEFAULTS.lockExtendMs).toBe(60000);
    expect(DEFAULTS.lockTtlMs).toBe(300000);
  });
});

describe("resolveOptions", () => {
  it("applies every default when only database is given", () => {
    const r = resolveOptions({ database: ref });
    expect(r).toEqual({
      database: ref,
      reportWriteMs: 2000,
      reportTtlMs: 10000,
      reporterWorkerSpawnTimeoutMs: 15000,
      lockRecheckMs: 5000,
      lockExtendMs: 60000,
      lockTtlMs: 300000,
    });
  });

  it("treats an explicit undefined as the default", () => {
    const opts: LockerOptions = { database: ref };
    for (const k of TIMING) (opts as unknown as Record<string, unknown>)[k] = undefined;
    const r = resolveOptions(opts);
    for (const k of TIMING) expect(r[k]).toBe(DEFAULTS[k]);
  });

  it("keeps valid explicit values", () => {
    const r = resolveOptions({
      database: ref,
      reportWriteMs: 100,
      reportTtlMs: 1000,
      reporterWorkerSpawnTimeoutMs: 1,
      lockRecheckMs: 1,
      lockExtendMs: 2000,
      lockTtlMs: 3000,
    });
    expect(r).toMatchObject({
      reportWriteMs: 100,
      reportTtlMs: 1000,
      reporterWorkerSpawnTimeoutMs: 1,
      lockRecheckMs: 1,
      lockExtendMs: 2000,
      lockTtlMs: 3000,
    });
  });

  it("accepts a { moduleName, exportName } reference (path, file: URL, package name)", () => {
    for (const database of [ref, { moduleName: "file:///srv/app/db.mjs", exportName: "default" }, { moduleName: "@acme/redis-db", exportName: "db" }]) {
      expect(resolveOptions({ database }).database).toBe(database);
    }
  });

  it("accepts a RedisDatabase instance", () => {
    const db = new RedisDatabase(fakeTransport());
    expect(resolveOptions({ database: db }).database).toBe(db);
  });

  const badValues: Array<[string, unknown]> = [
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["-1", -1],
    ["0", 0],
    ["-0", -0],
    ["a numeric string", "1000"],
    ["a string", "soon"],
    ["a bigint", 1000n],
    ["an object", {}],
    ["a boolean", true],
  ];

  for (const key of TIMING) {
    for (const [label, value] of badValues) {
      it(`rejects ${key} = ${label} with a TypeError naming the option`, () => {
        const err = captureTypeError(() => resolveOptions({ database: ref, [key]: value } as unknown as LockerOptions));
        expect(err.message).toContain(key);
      });
    }
  }

  it('rejects null for every timing option (only undefined means "use the default")', () => {
    // null is not a finite number (DESIGN §2); silently replacing it by the default hides a caller's bug.
    const accepted = TIMING.filter((key) => {
      try {
        resolveOptions({ database: ref, [key]: null } as unknown as LockerOptions);
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toContain(key);
        return false;
      }
    });
    expect(accepted).toEqual([]);
  });

  it("rejects timing values a JavaScript timer cannot wait (> 2^31 - 1 ms)", () => {
    expect(resolveOptions({ database: ref, lockTtlMs: 2 ** 31 - 1 }).lockTtlMs).toBe(2 ** 31 - 1);
    const err = captureTypeError(() => resolveOptions({ database: ref, lockTtlMs: 2 ** 31 }));
    expect(err.message).toContain("lockTtlMs");
  });

  // Each interval must fit inside the self-fencing window of its TTL (the TTL less drift and margin), not just the TTL.
  it.each([
    // [interval, ttl, default interval, default ttl, too-close interval for 1000/5000, fitting interval]
    ["reportWriteMs", "reportTtlMs", 2000, 10000, [960, 1000], [900, 1000]],
    ["lockExtendMs", "lockTtlMs", 60000, 300000, [4990, 5000], [4900, 5000]],
  ] as const)("rejects %s >= %s", (interval, ttl, defaultInterval, defaultTtl, tooClose, fits) => {
    for (const [i, t] of [[1000, 1000], [1001, 1000], tooClose]) {
      const err = captureTypeError(() => resolveOptions({ database: ref, [interval]: i, [ttl]: t }));
      expect(err.message).toContain(interval);
      expect(err.message).toContain(ttl);
    }
    // Against the default on the other side, too.
    captureTypeError(() => resolveOptions({ database: ref, [ttl]: defaultInterval }));
    captureTypeError(() => resolveOptions({ database: ref, [interval]: defaultTtl }));
    expect(resolveOptions({ database: ref, [interval]: fits[0], [ttl]: fits[1] })[interval]).toBe(fits[0]);
  });

  it("rejects fractional milliseconds (Redis PX takes whole ones)", () => {
    for (const key of ["reportWriteMs", "reportTtlMs", "lockRecheckMs", "lockExtendMs", "lockTtlMs", "reporterWorkerSpawnTimeoutMs"]) {
      const err = captureTypeError(() => resolveOptions({ database: ref, [key]: 1000.5 }));
      expect(err.message).toContain(key);
    }
  });

  it("rejects options that are not an object", () => {
    for (const bad of [undefined, null, 42, "opts"]) {
      captureTypeError(() => resolveOptions(bad as unknown as LockerOptions));
    }
  });

  it("rejects a missing or wrongly shaped database, naming the option", () => {
    const bad: unknown[] = [
      undefined,
      null,
      "redis://localhost",
      42,
      {},
      { moduleName: "/x.js" },
      { exportName: "db" },
      { moduleName: "", exportName: "db" },
      { moduleName: "/x.js", exportName: "" },
      { moduleName: 1, exportName: "db" },
      { moduleName: "/x.js", exportName: Symbol("db") },
    ];
    for (const database of bad) {
      const err = captureTypeError(() => resolveOptions({ database } as unknown as LockerOptions));
      expect(err.message).toContain("database");
    }
    captureTypeError(() => resolveOptions({} as LockerOptions));
  });
});

describe("a client given as database", () => {
  it("is wrapped in a RedisDatabase (a Transport here; the runtime entries also recognise ioredis and Upstash)", () => {
    const transport = fakeTransport();
    const { database } = resolveOptions({ database: transport } as unknown as LockerOptions);
    expect(database).toBeInstanceOf(RedisDatabase);
    expect((database as RedisDatabase).transport).toBe(transport);
  });
});

describe("option names and units", () => {
  it.each([
    ["lockTTLms", "lockTtlMs"],
    ["lockTtl", "lockTtlMs"],
    ["reportTTLMs", "reportTtlMs"],
    ["reportWriteMS", "reportWriteMs"],
    ["lockExtendMS", "lockExtendMs"],
    ["databse", "database"],
    ["waituntil", "waitUntil"],
  ])("an unknown option %s is a TypeError that suggests %s", (wrong, right) => {
    const err = captureTypeError(() => resolveOptions({ database: ref, [wrong]: 1000 } as unknown as LockerOptions));
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(`did you mean ${right}?`);
  });

  it("an option name like none of them lists the valid ones", () => {
    const err = captureTypeError(() => resolveOptions({ database: ref, retries: 3 } as unknown as LockerOptions));
    expect(err.message).toMatch(/no option "retries"; its options are database, waitUntil, reportWriteMs/);
  });

  it("impossible timing values say that durations are in milliseconds", () => {
    for (const options of [{ lockTtlMs: 300 }, { reportTtlMs: 10 }, { lockTtlMs: 0.5 }, { reportWriteMs: -2 }]) {
      const err = captureTypeError(() => resolveOptions({ database: ref, ...options }));
      expect(err.message).toMatch(/milliseconds/);
    }
  });
});
