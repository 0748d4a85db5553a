import { DEFAULTS } from "./defaults";
import { MIN_TTL_MS, fencedTtl } from "./fencing";
import type { Database, DatabaseReference } from "./database";
import { isDatabase, isDatabaseReference } from "./database";

/** Options of {@link Locker}. Every timing option is in milliseconds. */
export interface LockerOptions {
  /**
   * Where the locks live. Either a reference `{ moduleName, exportName }` to a
   * module that exports a {@link RedisDatabase} (the liveness thread imports the
   * same module to build its own connection, so options with functions such as
   * TLS callbacks work), or a `RedisDatabase` instance whose client can be
   * described to the thread (ioredis options without functions).
   */
  database: DatabaseReference | Database;
  /** {@inheritDoc DEFAULTS.reportWriteMs} */
  reportWriteMs?: number;
  /** {@inheritDoc DEFAULTS.reportTtlMs} */
  reportTtlMs?: number;
  /** {@inheritDoc DEFAULTS.reporterWorkerSpawnTimeoutMs} */
  reporterWorkerSpawnTimeoutMs?: number;
  /** {@inheritDoc DEFAULTS.lockRecheckMs} */
  lockRecheckMs?: number;
  /** {@inheritDoc DEFAULTS.lockExtendMs} */
  lockExtendMs?: number;
  /** {@inheritDoc DEFAULTS.lockTtlMs} */
  lockTtlMs?: number;
  /**
   * On runtimes that end an invocation when its response is sent (Cloudflare
   * Workers' `ctx.waitUntil`, `@vercel/functions`' `waitUntil`): pulselock hands
   * it every run, every held lock until its release, and the liveness writes
   * meanwhile, so the isolate lives until the final release. Without it such a
   * runtime may freeze the isolate with a lock held (others then take it over
   * after reportTtlMs).
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface ResolvedOptions {
  database: DatabaseReference | Database;
  reportWriteMs: number;
  reportTtlMs: number;
  reporterWorkerSpawnTimeoutMs: number;
  lockRecheckMs: number;
  lockExtendMs: number;
  lockTtlMs: number;
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
}

const TIMING_KEYS = [
  "reportWriteMs",
  "reportTtlMs",
  "reporterWorkerSpawnTimeoutMs",
  "lockRecheckMs",
  "lockExtendMs",
  "lockTtlMs",
] as const;

/** The largest delay a JavaScript timer can wait (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** The TypeError of a bad argument or option: what it must be, and the value given. */
export function badArgument(mustBe: string, value: unknown): TypeError {
  return new TypeError(`pulselock: ${mustBe}, got ${describe(value)}`);
}

/** Durations go to Redis as PX, which takes whole milliseconds only. */
export function positiveMs(name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) <= 0 || (value as number) > MAX_TIMER_MS) {
    throw badArgument(`option ${name} must be a whole number of ms in [1, ${MAX_TIMER_MS}]`, value);
  }
  return value as number;
}

/** A value as an error message shows it: strings and objects as JSON, where they have a JSON form. */
export function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value !== "string" && (typeof value !== "object" || value === null)) return String(value);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // A cycle, or a BigInt inside.
  }
  return json ?? Object.prototype.toString.call(value);
}

/** Each interval must fit inside the self-fencing window of its TTL, or the record could expire between two writes. */
const INTERVALS = [
  ["reportWriteMs", "reportTtlMs"],
  ["lockExtendMs", "lockTtlMs"],
] as const;

/** Checks every option once, so that later code can trust them. */
export function resolveOptions(options: LockerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw badArgument("Locker options must be an object", options);
  const { database, waitUntil } = options;
  if (!isDatabaseReference(database) && !isDatabase(database)) {
    throw badArgument("option database must be a RedisDatabase or { moduleName, exportName }", database);
  }
  if (waitUntil !== undefined && typeof waitUntil !== "function") {
    throw badArgument("option waitUntil must be a function", waitUntil);
  }
  const resolved = { database, waitUntil } as ResolvedOptions;
  for (const key of TIMING_KEYS) {
    // Only undefined means "use the default": null is a mistake worth reporting.
    resolved[key] = positiveMs(key, options[key] === undefined ? DEFAULTS[key] : options[key]);
  }
  for (const ttl of ["reportTtlMs", "lockTtlMs"] as const) {
    if (resolved[ttl] < MIN_TTL_MS) {
      throw new TypeError(
        `pulselock: option ${ttl} must be at least ${MIN_TTL_MS} ms (milliseconds), got ${resolved[ttl]}: an owner stops ` +
          `${DEFAULTS.fencingMarginMs} ms before its TTL ends, and timers are too coarse for self-fencing below that`,
      );
    }
  }
  for (const [interval, ttl] of INTERVALS) {
    // Compared with the self-fencing window, not the bare TTL: an owner stops that much before Redis expires its record.
    const window = fencedTtl(resolved[ttl]);
    if (resolved[interval] >= window) {
      throw new TypeError(
        `pulselock: ${interval} (${resolved[interval]}) must be less than the self-fencing window of ` +
          `${ttl} (${resolved[ttl]}), ${Math.floor(window)} ms`,
      );
    }
  }
  return resolved;
}
