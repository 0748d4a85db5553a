import { isDatabase, type DatabaseModule, type RedisDatabase } from "./database";
import { Ended } from "./ended";
import { LockBatches } from "./lock-batches";
import type { Platform } from "./liveness";

/**
 * The Locker's database: given, or loaded on first use from a module
 * reference (a dynamic import, which a constructor cannot await), and the
 * batches that carry acquires and releases to it.
 */
export class DatabaseHandle {
  #known: RedisDatabase | undefined;
  #loading: Promise<RedisDatabase> | undefined;
  #batches: LockBatches | undefined;
  /** Ends when the Locker is terminated (see Ended): the batchers of acquisitions and the waits listen to it. */
  readonly ended = new Ended();
  #onKnown: ((db: RedisDatabase) => void) | undefined;

  constructor(
    private readonly source: RedisDatabase | DatabaseModule,
    private readonly platform: Platform,
    private readonly options: { reporterWorkerSpawnTimeoutMs: number; lockTtlMs: number; lockRecheckMs: number },
  ) {
    if (isDatabase(source)) this.#known = source;
  }

  /** Calls `fn` with the database once it is known: now, or when a module reference has loaded. */
  whenKnown(fn: (db: RedisDatabase) => void): void {
    if (this.#known) fn(this.#known);
    else this.#onKnown = fn;
  }

  /** The database once loaded (undefined before), e.g. for its transport's traits. */
  get known(): RedisDatabase | undefined {
    return this.#known;
  }

  /** The database; a failed load is not cached, so the next call tries again. */
  get(): RedisDatabase | Promise<RedisDatabase> {
    if (this.#known) return this.#known;
    this.#loading ??= this.platform.loadDatabase(this.source as DatabaseModule, this.options.reporterWorkerSpawnTimeoutMs).then(
      (db) => {
        this.#known = db;
        this.#onKnown?.(db);
        return db;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }

  /** The acquire and release batches, made once the database is known (a cluster cannot batch). */
  batches(db: RedisDatabase): LockBatches {
    return (this.#batches ??= new LockBatches(db, {
      lockTtlMs: this.options.lockTtlMs,
      lockRecheckMs: this.options.lockRecheckMs,
      requestScoped: !!this.platform.requestScoped,
      stop: this.ended,
    }));
  }
}
