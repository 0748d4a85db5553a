import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  CorruptRecordError,
  DrainingSignal,
  isCorruptRecordError,
  isDrainingSignal,
  isLockError,
  isMutexError,
  isRedisCommandError,
  isLivenessError,
  isDatabaseLoadError,
  isLockerTerminatedError,
  isRunEndedError,
  RunEndedError,
  LockError,
  MutexError,
  RedisCommandError,
  LivenessError,
  DatabaseLoadError,
  LockerTerminatedError,
} from "../../src/errors";
import type { LockData } from "../../src/lock-data";

const PH = "0123456789abcdef0123456789abcdef";
const holder: LockData = {
  ownerHash: `job@${PH}.4#holder-trace`,
  processHash: PH,
  trace: "holder-trace",
  acquiredAt: "2024-01-02T03:04:05.678Z",
  extendedAt: "2024-01-02T03:05:05.678Z",
  fencingToken: 1704164645678901,
};

const cases = [
  { name: "LockError", guard: isLockError, make: () => new LockError("job", `job@${PH}.1`, null) },
  { name: "MutexError", guard: isMutexError, make: () => new MutexError("job", null, 10) },
  { name: "DrainingSignal", guard: isDrainingSignal, make: () => new DrainingSignal("job", "SIGTERM") },
  { name: "CorruptRecordError", guard: isCorruptRecordError, make: () => new CorruptRecordError("pl:{job}", "junk") },
  {
    name: "RedisCommandError",
    guard: isRedisCommandError,
    make: () => new RedisCommandError("acquire", "OOM", true, "OOM command not allowed"),
  },
  { name: "LivenessError", guard: isLivenessError, make: () => new LivenessError("no thread") },
  { name: "DatabaseLoadError", guard: isDatabaseLoadError, make: () => new DatabaseLoadError("no module") },
  { name: "LockerTerminatedError", guard: isLockerTerminatedError, make: () => new LockerTerminatedError() },
  { name: "RunEndedError", guard: isRunEndedError, make: () => new RunEndedError("job", `job@${PH}.1`) },
] as const;

describe("error classes", () => {
  for (const { name, make } of cases) {
    it(`${name} has the literal name and is an Error`, () => {
      const e = make();
      expect(e.name).toBe(name);
      expect(e).toBeInstanceOf(Error);
      expect(Object.prototype.toString.call(e)).toBe("[object Error]");
      expect(String(e).startsWith(`${name}: `)).toBe(true);
      expect(e.stack).toContain(name);
      // The name lives on the prototype (so minifiers cannot rename it), not on each instance.
      expect(Object.prototype.hasOwnProperty.call(e, "name")).toBe(false);
    });
  }

  it("LockError with lockData names the holder's ownerHash, acquiredAt and fencing token", () => {
    const e = new LockError("job", `job@${PH}.1`, holder);
    expect(e.key).toBe("job");
    expect(e.ownerHash).toBe(`job@${PH}.1`);
    expect(e.lockData).toBe(holder);
    expect(e.message).toContain(`job@${PH}.1`);
    expect(e.message).toContain(holder.ownerHash);
    expect(e.message).toContain(holder.acquiredAt);
    expect(e.message).toContain(String(holder.fencingToken));
    expect(e.message).toContain(JSON.stringify("job"));
  });

  it("LockError without lockData carries the reason", () => {
    const e = new LockError("job", `job@${PH}.1`, null, "the liveness record lapsed at 12:00");
    expect(e.lockData).toBeNull();
    expect(e.reason).toBe("the liveness record lapsed at 12:00");
    expect(e.message).toContain("the liveness record lapsed at 12:00");
    expect(e.message).toContain(`job@${PH}.1`);
    // Without a reason, it still says what happened.
    expect(new LockError("job", `job@${PH}.1`, null).message).toMatch(/gone|expired|deleted/);
  });

  it("LockError keeps its cause", () => {
    const cause = new Error("socket");
    expect(new LockError("job", "o", null, "r", { cause }).cause).toBe(cause);
  });

  it("MutexError names the key, the timeout and the holder", () => {
    const e = new MutexError("job", holder, 2500);
    expect(e.key).toBe("job");
    expect(e.timeoutMs).toBe(2500);
    expect(e.lockData).toBe(holder);
    expect(e.message).toContain("2500");
    expect(e.message).toContain(JSON.stringify("job"));
    expect(e.message).toContain(holder.ownerHash);
    expect(e.message).toContain(String(holder.fencingToken));
    expect(new MutexError("job", null).message).toContain(JSON.stringify("job"));
  });

  it("DrainingSignal names the key and the reason", () => {
    const e = new DrainingSignal("job-1", "SIGTERM received");
    expect(e.key).toBe("job-1");
    expect(e.reason).toBe("SIGTERM received");
    expect(e.message).toContain("SIGTERM received");
    expect(e.message).toContain(JSON.stringify("job-1"));
  });

  it("CorruptRecordError names the Redis key and shows the value", () => {
    const e = new CorruptRecordError("app:pl:{job}", "not-a-record");
    expect(e.redisKey).toBe("app:pl:{job}");
    expect(e.value).toBe("not-a-record");
    expect(e.message).toContain(JSON.stringify("app:pl:{job}"));
    expect(e.message).toContain("not-a-record");
    expect(new CorruptRecordError("k", 42).message).toContain("42");
    // A huge value is shortened in the message.
    expect(new CorruptRecordError("k", "x".repeat(10_000)).message.length).toBeLessThan(500);
  });

  it("RedisCommandError carries operation, code, transient and cause", () => {
    const cause = new Error("READONLY You can't write against a read only replica.");
    const e = new RedisCommandError("release", "READONLY", true, cause.message, { cause });
    expect(e.operation).toBe("release");
    expect(e.code).toBe("READONLY");
    expect(e.transient).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.message).toContain("release");
    expect(e.message).toContain("READONLY You can't write");
  });

  it("LivenessError and DatabaseLoadError carry the message and cause", () => {
    const cause = new Error("ENOENT");
    for (const e of [new LivenessError("cannot write", { cause }), new DatabaseLoadError("cannot import db module", { cause })]) {
      expect(e.cause).toBe(cause);
    }
    expect(new DatabaseLoadError("cannot import db module").message).toBe("cannot import db module");
  });

  it("LockerTerminatedError says to create a new Locker", () => {
    expect(new LockerTerminatedError().message).toMatch(/terminated; create a new one/);
  });
});

describe("type guards", () => {
  const allNames = cases.map((c) => c.name);

  for (const { name, guard, make } of cases) {
    describe(name, () => {
      it("recognises its own instances and only those among the library's errors", () => {
        expect(guard(make())).toBe(true);
        for (const other of cases) if (other.name !== name) expect(guard(other.make())).toBe(false);
      });

      it("recognises a plain object with that name (another copy of the package, a thread)", () => {
        expect(guard({ name })).toBe(true);
        expect(guard({ name, message: "m", stack: "s" })).toBe(true);
      });

      it("recognises an error created in another realm (node:vm)", () => {
        const foreignError = runInNewContext(`(() => { const e = new Error("from another realm"); e.name = NAME; return e; })()`, { NAME: name });
        expect(foreignError instanceof Error).toBe(false); // really another realm
        expect(guard(foreignError)).toBe(true);

        const foreignSubclass = runInNewContext(`class X extends Error {}; Object.defineProperty(X.prototype, "name", { value: NAME }); new X("m")`, {
          NAME: name,
        });
        expect(foreignSubclass instanceof Error).toBe(false);
        expect(guard(foreignSubclass)).toBe(true);

        const foreignPlain = runInNewContext(`({ name: NAME })`, { NAME: name });
        expect(guard(foreignPlain)).toBe(true);
      });

      it("recognises a structured clone in which the name survives", () => {
        const original = make();
        // How errors cross a worker thread: as a plain object that keeps name and message.
        const cloned = structuredClone({ name: original.name, message: original.message, stack: original.stack });
        expect(cloned.name).toBe(name);
        expect(guard(cloned)).toBe(true);
        // structuredClone() of the Error itself keeps only names V8 knows (Node 20 turns ours into "Error");
        // whatever the clone is called, the guard must agree with its name.
        const viaError = structuredClone(original) as { name: string };
        expect(guard(viaError)).toBe(viaError.name === name);
      });

      it("rejects everything else", () => {
        const others: unknown[] = [
          null,
          undefined,
          0,
          "",
          name, // the bare string
          Symbol(name),
          new Error(name),
          new TypeError("x"),
          {},
          { name: name.toLowerCase() },
          { name: ` ${name}` },
          { name: [name] },
          { constructor: { name } },
          { message: name },
          ...allNames.filter((n) => n !== name).map((n) => ({ name: n })),
        ];
        for (const v of others) expect(guard(v), String(typeof v === "symbol" ? "symbol" : JSON.stringify(v))).toBe(false);
      });
    });
  }
});
