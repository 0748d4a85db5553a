import { DEFAULTS } from "./defaults";
import { fencedTtl } from "./fencing";
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

/** Durations go to Redis as PX, which takes whole milliseconds only. */
export function positiveMs(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new TypeError(
      `pulselock: option ${name} must be a whole number of milliseconds in [1, ${MAX_TIMER_MS}], got ${describe(value)}`,
    );
  }
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Checks every option once, so that later code can trust them. */
export function resolveOptions(options: LockerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`pulselock: Locker options must be an object, got ${describe(options)}`);
  }
  const { database } = options;
  if (!isDatabaseReference(database) && !isDatabase(database)) {
    throw new TypeError(
      "pulselock: option database must be { moduleName, exportName } (a module that exports a RedisDatabase) " +
        `or a RedisDatabase instance, got ${describe(database)}`,
    );
  }
  if (options.waitUntil !== undefined && typeof options.waitUntil !== "function") {
    throw new TypeError(`pulselock: option waitUntil must be a function (e.g. ctx.waitUntil.bind(ctx)), got ${describe(options.waitUntil)}`);
  }
  const resolved = { database, waitUntil: options.waitUntil } as ResolvedOptions;
  for (const key of TIMING_KEYS) {
    // Only undefined means "use the default": null is a mistake worth reporting.
    resolved[key] = positiveMs(key, options[key] === undefined ? DEFAULTS[key] : options[key]);
  }
  // Compared with the self-fencing window, not the bare TTL: an owner stops that much before Redis expires its record.
  if (resolved.reportWriteMs >= fencedTtl(resolved.reportTtlMs)) {
    throw new TypeError(
      `pulselock: reportWriteMs (${resolved.reportWriteMs}) must be less than reportTtlMs ` +
        `(${resolved.reportTtlMs}) minus the self-fencing margin (${Math.floor(fencedTtl(resolved.reportTtlMs))} ms left), ` +
        "or the liveness record would lapse between two writes",
    );
  }
  if (resolved.lockExtendMs >= fencedTtl(resolved.lockTtlMs)) {
    throw new TypeError(
      `pulselock: lockExtendMs (${resolved.lockExtendMs}) must be less than lockTtlMs ` +
        `(${resolved.lockTtlMs}) minus the self-fencing margin (${Math.floor(fencedTtl(resolved.lockTtlMs))} ms left), ` +
        "or a lock would expire between two extensions",
    );
  }
  return resolved;
}
