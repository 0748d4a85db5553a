import { afterAll, afterEach, beforeAll } from "vitest";
import { Locker, type LockerOptions, type RedisDatabase } from "pulselock";
import type { ConformanceContext } from "./context";

/** Short liveness timings so takeovers happen in about a second. */
export const FAST = { reportWriteMs: 200, reportTtlMs: 1000, lockRecheckMs: 100 } as const;

export interface Harness {
  readonly ctx: ConformanceContext;
  /** A Locker on a fresh connection, terminated after the test. */
  locker(options?: Partial<LockerOptions> & { db?: RedisDatabase }): Locker;
  /** The full Redis key of a lock name, as the admin client sees it. */
  fullKey(db: RedisDatabase, name: string): string;
  /** Background errors of every locker of the current test. */
  errors: { type: string; error: unknown }[];
}

/** Starts the context once per file and cleans up lockers after each test. */
export function useHarness(makeContext: () => Promise<ConformanceContext>): Harness {
  let ctx: ConformanceContext | undefined;
  const lockers: Locker[] = [];
  const errors: { type: string; error: unknown }[] = [];
  beforeAll(async () => {
    ctx = await makeContext();
  });
  afterEach(async () => {
    await Promise.all(lockers.splice(0).map((l) => l.terminate()));
    errors.length = 0;
  });
  afterAll(async () => {
    await ctx?.close();
  });
  return {
    get ctx() {
      if (!ctx) throw new Error("context not started");
      return ctx;
    },
    locker({ db, ...options } = {}) {
      const locker = new Locker({ database: db ?? this.ctx.database(), ...FAST, ...options });
      locker.errors.subscribe((e) => errors.push(e));
      lockers.push(locker);
      return locker;
    },
    fullKey(db, name) {
      return db.transport.clientKeyPrefix + db.lockKey(name);
    },
    errors,
  };
}
