import type * as core from "pulselock/core";
import type { LockData } from "pulselock";

/*
 * The catalogue of bad input: values no timing option, key or argument may
 * take, and every method call that must refuse them. api-arguments.test.ts
 * checks each refusal; no-secrets.test.ts runs them all again with secrets
 * around and checks that no message shows one.
 */

export const MB = 1 << 20;
/** Wrong types, empty, huge, NaN, negative, Infinity, fractions: none is a duration in whole ms. */
export const BAD_MS: Array<[string, unknown]> = [
  ["a numeric string", "1000"],
  ["null", null],
  ["an empty string", ""],
  ["NaN", Number.NaN],
  ["-1", -1],
  ["0", 0],
  ["Infinity", Infinity],
  ["1.5", 1.5],
  ["2**31", 2 ** 31],
  ["an object", { ms: 1 }],
  ["a bigint", 1000n],
  ["a 1 MB string", "9".repeat(MB)],
];
export const BAD_KEYS: Array<[string, unknown]> = [
  ["an empty string", ""],
  ["undefined", undefined],
  ["null", null],
  ["a number", 42],
  ["NaN", Number.NaN],
  ["an object", {}],
  ["an array", ["k"]],
  ["a symbol", Symbol("k")],
  ["a bigint", 7n],
  ["a String object", new String("k")],
];
export const TIMING = ["reportWriteMs", "reportTtlMs", "reporterWorkerSpawnTimeoutMs", "lockRecheckMs", "lockExtendMs", "lockTtlMs"];

export const noop = async (): Promise<void> => {};

/** Every method that takes a key, with a bad key. */
export const keyCalls: Array<[string, (l: core.Locker, key: unknown) => unknown]> = [
  ["acquire", (l, k) => l.acquire(k as string)],
  ["acquireAndRun", (l, k) => l.acquireAndRun(k as string, noop)],
  ["mutex", (l, k) => l.mutex(k as string, 10, noop)],
  ["mutex", (l, k) => l.mutex(k as string, { timeoutMs: 10 }, noop)],
  ["readLockData", (l, k) => l.readLockData(k as string)],
  ["release", (l, k) => l.release(k as string, { ownerHash: `${String(k)}@${"0".repeat(32)}.1` } as LockData)],
  ["acquireAllAndRun", (l, k) => l.acquireAllAndRun(["ok", k as string], noop)],
  ["mutexAll", (l, k) => l.mutexAll([k as string, "ok"], { timeoutMs: 10 }, noop)],
];
/** Every other argument a method must refuse: method, label, call, the bad value (for the message). */
export const otherCalls: Array<[string, string, (l: core.Locker, key: string) => unknown, unknown]> = [
  ["acquire", "trace 42", (l, k) => l.acquire(k, 42 as never), 42],
  ["acquire", "options.trace {}", (l, k) => l.acquire(k, { trace: {} } as never), {}],
  ["acquire", "trace null", (l, k) => l.acquire(k, null as never), null],
  ["acquireAndRun", "fn undefined", (l, k) => l.acquireAndRun(k, undefined as never), undefined],
  ["acquireAndRun", "fn a string", (l, k) => l.acquireAndRun(k, "fn" as never), "fn"],
  ["acquireAndRun", "fn an object", (l, k) => l.acquireAndRun(k, {} as never), {}],
  ["acquireAndRun", "trace 42", (l, k) => l.acquireAndRun(k, noop, 42 as never), 42],
  ["acquireAndRun", "options.trace 42", (l, k) => l.acquireAndRun(k, noop, { trace: 42 as never }), 42],
  ["acquireAllAndRun", "keys not an array", (l) => l.acquireAllAndRun("a-key" as never, noop), "a-key"],
  ["acquireAllAndRun", "keys []", (l) => l.acquireAllAndRun([], noop), /empty array/],
  ["acquireAllAndRun", "a key twice", (l, k) => l.acquireAllAndRun([k, "other", k], noop), /twice \(at index 2\)/],
  // Found by an attack pass: forEach skipped the holes of a sparse array, which then locked the name "undefined".
  // eslint-disable-next-line no-sparse-arrays
  ["acquireAllAndRun", "a sparse array", (l, k) => l.acquireAllAndRun([k, , "other"] as string[], noop), /undefined.*at index 1/],
  ["mutexAll", "a sparse array", (l) => l.mutexAll(new Array(3) as string[], { timeoutMs: 10 }, noop), /undefined.*at index 0/],
  // Two names that differ only in lone surrogates are one Redis key (UTF-8 makes each U+FFFD): the set would hold it twice.
  ["acquireAllAndRun", "two names that are one Redis key", (l, k) => l.acquireAllAndRun([`${k}\uD800`, `${k}\uDBFF`], noop), /twice \(as .*, in UTF-8\)/],
  [
    "acquireAllAndRun",
    "101 keys",
    (l, k) =>
      l.acquireAllAndRun(
        Array.from({ length: 101 }, (_, i) => `${k}-${i}`),
        noop,
      ),
    /at most 100 .* got 101/,
  ],
  ["acquireAllAndRun", "fn undefined", (l, k) => l.acquireAllAndRun([k], undefined as never), undefined],
  ["acquireAllAndRun", "trace 42", (l, k) => l.acquireAllAndRun([k], noop, 42 as never), 42],
  ["acquireAllAndRun", "options.trace 42", (l, k) => l.acquireAllAndRun([k], noop, { trace: 42 as never }), 42],
  ["mutexAll", "keys []", (l) => l.mutexAll([], { timeoutMs: 10 }, noop), /empty array/],
  ["mutexAll", "options a number", (l, k) => l.mutexAll([k], 10 as never, noop), /options as an object/],
  ["mutexAll", "timeoutMs -1", (l, k) => l.mutexAll([k], { timeoutMs: -1 }, noop), -1],
  ["mutexAll", "signal a string", (l, k) => l.mutexAll([k], { timeoutMs: 10, signal: "stop" as never }, noop), "stop"],
  ["mutexAll", "fn null", (l, k) => l.mutexAll([k], { timeoutMs: 10 }, null as never), null],
  ["mutexAll", "trace 42", (l, k) => l.mutexAll([k], { timeoutMs: 10, trace: 42 as never }, noop), 42],
  ["mutex", "timeoutMs a string", (l, k) => l.mutex(k, "10" as never, noop), "10"],
  ["mutex", "timeoutMs null", (l, k) => l.mutex(k, null as never, noop), null],
  ["mutex", "timeoutMs NaN", (l, k) => l.mutex(k, Number.NaN, noop), Number.NaN],
  ["mutex", "timeoutMs -1", (l, k) => l.mutex(k, -1, noop), -1],
  ["mutex", "timeoutMs undefined", (l, k) => l.mutex(k, undefined as never, noop), undefined],
  ["mutex", "options.timeoutMs -Infinity", (l, k) => l.mutex(k, { timeoutMs: -Infinity }, noop), -Infinity],
  ["mutex", "recheckDelayMs 0", (l, k) => l.mutex(k, 10, noop, 0), 0],
  ["mutex", "recheckDelayMs -1", (l, k) => l.mutex(k, 10, noop, -1), -1],
  ["mutex", "recheckDelayMs NaN", (l, k) => l.mutex(k, 10, noop, Number.NaN), Number.NaN],
  ["mutex", "recheckDelayMs Infinity", (l, k) => l.mutex(k, 10, noop, Infinity), Infinity],
  ["mutex", "recheckDelayMs a string", (l, k) => l.mutex(k, { timeoutMs: 10, recheckDelayMs: "5" as never }, noop), "5"],
  ["mutex", "fn null", (l, k) => l.mutex(k, 10, null as never), null],
  ["mutex", "fn in the wrong place", (l, k) => l.mutex(k, noop as never, 10 as never), undefined],
  ["mutex", "trace 42", (l, k) => l.mutex(k, 10, noop, 5, 42 as never), 42],
  ["mutex", "signal a string", (l, k) => l.mutex(k, { timeoutMs: 10, signal: "stop" as never }, noop), "stop"],
  ["release", "lockData undefined", (l, k) => l.release(k, undefined as never), undefined],
  ["release", "lockData null", (l, k) => l.release(k, null as never), null],
  ["release", "lockData a string", (l, k) => l.release(k, "lock" as never), "lock"],
  ["release", "lockData {}", (l, k) => l.release(k, {} as never), {}],
  ["release", "a numeric ownerHash", (l, k) => l.release(k, { ownerHash: 5 } as never), 5],
  // A misspelt option would be ignored silently, and its default used: every options object refuses unknown names.
  ["acquire", "an unknown option waituntil", (l, k) => l.acquire(k, { waituntil: noop } as never), "waituntil"],
  ["acquireAndRun", "an unknown option trce", (l, k) => l.acquireAndRun(k, noop, { trce: "x" } as never), "trce"],
  ["acquireAllAndRun", "an unknown option tracee", (l, k) => l.acquireAllAndRun([k], noop, { tracee: "x" } as never), "tracee"],
  ["mutex", "an unknown option recheckDelay", (l, k) => l.mutex(k, { timeoutMs: 10, recheckDelay: 5 } as never, noop), "recheckDelay"],
  ["mutexAll", "an unknown option timeout", (l, k) => l.mutexAll([k], { timeout: 10 } as never, noop), "timeout"],
  ["semaphore", "an unknown option limt", (l, k) => l.semaphore(k, { limit: 2, limt: 3 } as never), "limt"],
  ["acquireAndRun", "a semaphore's unknown option trce", (l, k) => l.semaphore(k, { limit: 2 }).acquireAndRun(noop, { trce: "x" } as never), "trce"],
  ["acquire", "a semaphore's unknown option waituntil", (l, k) => l.semaphore(k, { limit: 2 }).acquire({ waituntil: noop } as never), "waituntil"],
  ["waitAndRun", "an unknown option sigal", (l, k) => l.semaphore(k, { limit: 2 }).waitAndRun({ timeoutMs: 10, sigal: undefined } as never, noop), "sigal"],
];
