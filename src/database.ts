import { badArgument, positiveMs } from "./arguments";
import { upstashTransport, type UpstashClient } from "./upstash-transport";
import { DEFAULTS } from "./defaults";
import { lockKey, processKey } from "./keys";
import { hasShape } from "./shape";
import { assertKnownOptions } from "./option-names";
import { runScript } from "./run-script";
import type { LuaScript } from "./scripts/script";
import type { Transport } from "./transport";

/**
 * An ioredis `Redis` or `Cluster` client, seen through what pulselock calls
 * (the core imports nothing from ioredis, not even its types). Only the Node,
 * Bun and Deno entries' RedisDatabase accepts one at run time; it is in the
 * core's type so that code whose TypeScript resolves the package root to the
 * core's types (bundler or node10 resolution) still compiles.
 */
export interface IoredisClientLike {
  /** Runs a script by its SHA1: every lock operation. */
  evalsha(...args: never[]): unknown;
  /** Runs a script from its source, after NOSCRIPT. */
  eval(...args: never[]): unknown;
  /** The liveness thread and the pub/sub subscriber open connections of their own. */
  duplicate(...args: never[]): unknown;
  /** Described to the liveness thread, which cannot share the main thread's socket. */
  options: object;
}

/**
 * A Redis client given directly to {@link RedisDatabase} or as a Locker's
 * `database`: an ioredis `Redis` or `Cluster` client (Node, Bun, Deno entries),
 * an @upstash/redis client (every entry), or a {@link Transport}. It stays
 * yours to close.
 */
export type RedisClientLike = IoredisClientLike | UpstashClient | Transport;

/**
 * Where a liveness thread finds the database: a module and the name of its
 * export (the name `@clickup/distributed-locker` gives this shape).
 */
export interface DatabaseModule {
  /** An absolute path (with or without its extension, found as require() finds it), a `file:` URL, or a package name; ESM or CJS. */
  moduleName: string;
  /** The name of the export that holds the RedisDatabase. */
  exportName: string;
}

/**
 * Options of {@link RedisDatabase}. They belong to the database rather than the
 * Locker because the liveness thread, which builds its own RedisDatabase, must
 * apply exactly the same ones.
 */
export interface RedisDatabaseOptions {
  /**
   * After each lock write (acquire, extend, liveness), wait until this many
   * replicas have it (WAIT). Redis replicates asynchronously, so a failover
   * can lose the newest writes; with 1 here, a promoted replica has every lock
   * that pulselock reported as held. Costs one more round trip per write.
   * @default 0
   */
  waitForReplicas?: number;
  /**
   * How long one WAIT may take. A write that is not replicated in time counts
   * as failed: acquire throws, an extension or liveness write does not move
   * the self-fencing deadline.
   * The default is explained at {@link DEFAULTS.replicationTimeoutMs}.
   * @default 500
   */
  replicationTimeoutMs?: number;
  /**
   * Put in front of every key pulselock writes, after the client's own
   * prefix. Use it to share one Redis between applications, and with clients
   * that have no key prefix of their own (Upstash).
   * @default ""
   */
  prefix?: string;
}

const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/** Recognises a Database across copies of this package and across realms. */
const DATABASE_BRAND = Symbol.for("pulselock.database");

/**
 * A Redis database for locks. It wraps a client that you created (ioredis
 * `Redis` or `Cluster`, @upstash/redis `Redis`, or any {@link Transport}); the
 * client is recognised by its shape, so pulselock never imports a client
 * library itself.
 */
export class RedisDatabase {
  // Declared only: the constructor sets each of them once it has checked them.
  /** The client, seen through the few calls pulselock makes (EVALSHA, EVAL, WAIT, pub/sub). */
  declare readonly transport: Transport;
  /** {@inheritDoc RedisDatabaseOptions.prefix} */
  declare readonly prefix: string;
  /** {@inheritDoc RedisDatabaseOptions.waitForReplicas} */
  declare readonly waitForReplicas: number;
  /** {@inheritDoc RedisDatabaseOptions.replicationTimeoutMs} */
  declare readonly replicationTimeoutMs: number;

  /**
   * The client shapes this entry recognises. The runtime-agnostic entry knows
   * @upstash/redis (HTTP, the only kind an edge isolate can use); the Node
   * entry's RedisDatabase adds ioredis, so edge bundles do not carry it.
   */
  static readonly clientAdapters: readonly ((client: unknown) => Transport | undefined)[] = [upstashTransport];

  /**
   * @param client An @upstash/redis client or a {@link Transport} here; the
   * Node, Bun and Deno entries' RedisDatabase takes ioredis clients too (typed
   * here as {@link IoredisClientLike}, since TypeScript projects resolve the
   * package root to this entry's types unless they set the "node" condition).
   * Told apart by shape at run time, which also refuses anything else that
   * plain JavaScript passes.
   */
  constructor(client: RedisClientLike, options: RedisDatabaseOptions = {}) {
    const adapters = (new.target as typeof RedisDatabase).clientAdapters;
    const transport = isTransport(client) ? client : adapters.reduce<Transport | undefined>((t, a) => t ?? a(client), undefined);
    if (!transport) {
      // Only the Node entry's RedisDatabase has more than one adapter: it knows ioredis.
      const ioredis = adapters.length > 1 ? " or an ioredis client" : " (ioredis needs the Node entry)";
      throw badArgument(`RedisDatabase needs an @upstash/redis client, a pulselock Transport${ioredis}`, client);
    }
    if (typeof options !== "object" || options === null) throw badArgument("RedisDatabase options must be an object", options);
    assertKnownOptions("RedisDatabase", options, ["prefix", "waitForReplicas", "replicationTimeoutMs"]);
    // Only undefined means "use the default": null is a mistake worth reporting, as in the Locker's options.
    const { prefix = "", waitForReplicas = 0, replicationTimeoutMs = DEFAULTS.replicationTimeoutMs } = options;
    if (typeof prefix !== "string") throw badArgument("RedisDatabase option prefix must be a string", prefix);
    if (!Number.isInteger(waitForReplicas) || waitForReplicas < 0) {
      throw badArgument("RedisDatabase option waitForReplicas must be a whole number >= 0", waitForReplicas);
    }
    // Only a subclass that implements replicated() (the Node entry's) can WAIT.
    const canWait = new.target.prototype.replicated !== RedisDatabase.prototype.replicated && transport.waitForReplicas;
    if (waitForReplicas > 0 && !canWait) {
      throw new TypeError(`pulselock: a ${transport.kind} client cannot WAIT here: leave waitForReplicas at 0`);
    }
    this.transport = transport;
    this.prefix = prefix;
    this.waitForReplicas = waitForReplicas;
    this.replicationTimeoutMs = positiveMs("replicationTimeoutMs", replicationTimeoutMs);
    Object.defineProperty(this, DATABASE_BRAND, { value: true });
  }

  /**
   * The Redis key of the lock named `name` (without the client's own prefix).
   * The name is the key's hash tag, so every key of one lock lives in one
   * Redis Cluster slot; useful to find a lock with redis-cli.
   */
  lockKey(name: string): string {
    return lockKey(this.prefix, name);
  }

  /** The Redis key of one process's liveness record: while it exists, that process's locks are not taken over. */
  processKey(processHash: string): string {
    return processKey(this.prefix, processHash);
  }

  /** The pub/sub channel on which a release of `name` is announced: the full key, client prefix included. */
  wakeChannel(name: string): string {
    return this.transport.clientKeyPrefix + this.lockKey(name);
  }

  /**
   * Runs one of pulselock's Lua scripts: EVALSHA first (the text is not
   * resent), EVAL when Redis answers NOSCRIPT; client errors become
   * RedisCommandErrors.
   */
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.transport, script, keys, args);
  }

  /**
   * Closes the client this database wraps: ioredis sends QUIT (or drops a
   * connection that is not up), an HTTP client holds nothing open. The client
   * is yours, so pulselock never closes it by itself: call this (or
   * `await using db = …`) once the Lockers using it are terminated, so that
   * the process can exit.
   */
  async close(): Promise<void> {
    await this.transport.close?.();
  }

  /** `await using db = new RedisDatabase(client)` closes the client at the end of the scope: see {@link RedisDatabase.close}. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Resolves once the last write to `key` is on waitForReplicas replicas. The
   * runtime-agnostic entry has no client that can WAIT, so here it resolves
   * at once; the Node entry's RedisDatabase overrides it.
   */
  replicated(_operation: string, _key: string): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Whether `value` is a RedisDatabase, by a brand rather than `instanceof`, so
 * that a database from another copy of pulselock (or another realm, such as a
 * liveness thread's module) is recognised too.
 */
export function isDatabase(value: unknown): value is RedisDatabase {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DATABASE_BRAND] === true;
}

export function isDatabaseModule(value: unknown): value is DatabaseModule {
  return hasShape(value, { moduleName: "string", exportName: "string" }) && !isDatabase(value) && value.moduleName !== "" && value.exportName !== "";
}

function isTransport(value: unknown): value is Transport {
  return hasShape(value, { kind: "string", clientKeyPrefix: "string", evalsha: "function", eval: "function" });
}
