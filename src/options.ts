import { DEFAULTS } from "./defaults";
import { MIN_TTL_MS, fencedTtl } from "./fencing";
import { badArgument, positiveMs } from "./arguments";
import { RedisDatabase, isDatabase, isDatabaseModule, type DatabaseModule, type RedisClientLike } from "./database";
import { assertKnownOptions } from "./option-names";
import type { Instrumentation } from "./instrumentation";

/** Options of {@link Locker}. Every timing option is in milliseconds. */
export interface LockerOptions {
  /**
   * Where the locks live. Either a reference `{ moduleName, exportName }` to a
   * module that exports a {@link RedisDatabase} (the liveness thread imports the
   * same module to build its own connection, so options with functions such as
   * TLS callbacks work), or a `RedisDatabase` instance whose client can be
   * described to the thread (ioredis options without functions), or such a
   * client itself, which the Locker wraps in a `RedisDatabase` for you.
   */
  database: DatabaseModule | RedisDatabase | RedisClientLike;
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
  /**
   * Where the Locker reports metrics and spans, e.g. `openTelemetry()` from
   * `pulselock/opentelemetry`; `false` for nowhere. Left out, the Locker of
   * Node and Bun reports through `@opentelemetry/api` when that package is
   * installed (what an OpenTelemetry user expects of a library: it shows up
   * once the SDK is registered), and nowhere when it is not, loading nothing.
   * Elsewhere (Deno, edge runtimes) it is off unless given.
   * @default automatic on Node and Bun, off elsewhere
   */
  instrumentation?: Instrumentation | false;
}

export interface ResolvedOptions {
  database: DatabaseModule | RedisDatabase;
  reportWriteMs: number;
  reportTtlMs: number;
  reporterWorkerSpawnTimeoutMs: number;
  lockRecheckMs: number;
  lockExtendMs: number;
  lockTtlMs: number;
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  instrumentation: Instrumentation | undefined;
}

const TIMING_KEYS = ["reportWriteMs", "reportTtlMs", "reporterWorkerSpawnTimeoutMs", "lockRecheckMs", "lockExtendMs", "lockTtlMs"] as const;

const LOCKER_OPTION_NAMES = ["database", "waitUntil", ...TIMING_KEYS, "instrumentation"] as const;

/**
 * The `database` option as a Database or a reference. A client given directly
 * (as redlock and redis-semaphore take them) is wrapped in `Db`, whose client
 * adapters recognise it by shape: the Node and Deno Lockers pass their
 * RedisDatabase, which knows ioredis; the core one knows @upstash/redis.
 */
export function databaseOption(database: unknown, Db: typeof RedisDatabase): RedisDatabase | DatabaseModule {
  if (isDatabase(database)) return database;
  if (isDatabaseModule(database)) {
    // The liveness thread imports it from another module's directory: a relative name would find another file, or none.
    if (database.moduleName.startsWith(".")) {
      throw badArgument("option database.moduleName must be an absolute path, a file: URL or a package name, not relative", database.moduleName);
    }
    return database;
  }
  // Typed only to reach the constructor: its shape check tells which client it is, or refuses it.
  if (looksLikeClient(database)) return new Db(database as RedisClientLike);
  throw badArgument("option database must be a RedisDatabase, a Redis client (ioredis, @upstash/redis) or { moduleName, exportName }", database);
}

/**
 * `options` with a client given as `database` wrapped in `Db` (a runtime
 * entry's RedisDatabase); anything else is left to resolveOptions to check.
 */
export function wrapClientOption<T>(options: T, Db: typeof RedisDatabase): T {
  const database = (options as { database?: unknown } | null)?.database;
  if (isDatabase(database) || !looksLikeClient(database)) return options;
  return { ...options, database: new Db(database as RedisClientLike) };
}

/** Anything that runs scripts: a client or a Transport; RedisDatabase tells which it is, or says why it cannot use it. */
function looksLikeClient(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { evalsha?: unknown }).evalsha === "function";
}

/** Each interval must fit inside the self-fencing window of its TTL, or the record could expire between two writes. */
const INTERVALS = [
  ["reportWriteMs", "reportTtlMs"],
  ["lockExtendMs", "lockTtlMs"],
] as const;

/** Checks every option once, so that later code can trust them. */
export function resolveOptions(options: LockerOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw badArgument("Locker options must be an object", options);
  assertKnownOptions("Locker", options, LOCKER_OPTION_NAMES);
  const { waitUntil } = options;
  const database = databaseOption(options.database, RedisDatabase);
  if (waitUntil !== undefined && typeof waitUntil !== "function") {
    throw badArgument("option waitUntil must be a function", waitUntil);
  }
  const { instrumentation } = options;
  // One method tells an Instrumentation from a mistake (an options object, a meter): the edge bundle pays for every check.
  if (instrumentation !== undefined && instrumentation !== false && typeof (instrumentation as Partial<Instrumentation> | null)?.startRun !== "function") {
    throw badArgument("option instrumentation must be an Instrumentation such as openTelemetry(), or false", instrumentation);
  }
  const resolved = { database, waitUntil, instrumentation: instrumentation || undefined } as ResolvedOptions;
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
        `pulselock: ${interval} (${resolved[interval]} milliseconds) must be less than the self-fencing window of ` +
          `${ttl} (${resolved[ttl]} milliseconds), ${Math.floor(window)} milliseconds; every duration option is in milliseconds`,
      );
    }
  }
  return resolved;
}
