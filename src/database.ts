import { upstashTransport } from "../adapters/upstash/transport";
import { lockKey, processKey } from "./keys";
import { hasShape } from "./shape";
import { RedisCommandError } from "./errors";
import { describe, positiveMs } from "./options";
import { toRedisCommandError } from "./redis-errors";
import { runScript } from "./run-script";
import type { LuaScript } from "./scripts/script";
import type { Transport } from "./transport";

/** Where a liveness thread finds the database: a module and the name of its export. */
export interface DatabaseReference {
  /** An absolute path, a `file:` URL, or a package name; ESM or CJS. */
  moduleName: string;
  /** The name of the export that holds the RedisDatabase. */
  exportName: string;
}

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

/** Recognises a Database across copies of this package and across realms. */
const DATABASE_BRAND = Symbol.for("pulselock.database");

/**
 * A Redis database for locks. It wraps a client that you created (ioredis
 * `Redis` or `Cluster`, @upstash/redis `Redis`, or any {@link Transport}); the
 * client is recognised by its shape, so pulselock never imports a client
 * library itself.
 */
export class RedisDatabase {
  readonly transport: Transport;
  readonly prefix: string;
  readonly waitForReplicas: number;
  readonly replicationTimeoutMs: number;

  /**
   * The client shapes this entry recognises. The runtime-agnostic entry knows
   * @upstash/redis (HTTP, the only kind an edge isolate can use); the Node
   * entry's RedisDatabase adds ioredis, so edge bundles do not carry it.
   */
  static readonly clientAdapters: readonly ((client: unknown) => Transport | undefined)[] = [upstashTransport];

  constructor(client: unknown, options: RedisDatabaseOptions = {}) {
    const adapters = (new.target as typeof RedisDatabase).clientAdapters;
    const transport = isTransport(client) ? client : adapters.reduce<Transport | undefined>((t, a) => t ?? a(client), undefined);
    if (!transport) {
      throw new TypeError(
        `pulselock: RedisDatabase needs ${adapters.length > 1 ? "an ioredis Redis or Cluster client, " : ""}` +
          `an @upstash/redis client, or a pulselock Transport, got ${describe(client)}` +
          (adapters.length > 1 ? "" : " (ioredis clients are recognised by the Node entry: import pulselock on Node, Bun or Deno)"),
      );
    }
    const prefix = options.prefix ?? "";
    if (typeof prefix !== "string") {
      throw new TypeError(`pulselock: RedisDatabase option prefix must be a string, got ${describe(prefix)}`);
    }
    const waitForReplicas = options.waitForReplicas ?? 0;
    if (!Number.isInteger(waitForReplicas) || waitForReplicas < 0) {
      throw new TypeError(`pulselock: RedisDatabase option waitForReplicas must be a whole number >= 0, got ${describe(waitForReplicas)}`);
    }
    if (waitForReplicas > 0 && !transport.waitForReplicas) {
      throw new TypeError(`pulselock: a ${transport.kind} client cannot WAIT for replicas; leave waitForReplicas at 0`);
    }
    this.transport = transport;
    this.prefix = prefix;
    this.waitForReplicas = waitForReplicas;
    this.replicationTimeoutMs = positiveMs("replicationTimeoutMs", options.replicationTimeoutMs ?? 500);
    Object.defineProperty(this, DATABASE_BRAND, { value: true });
  }

  lockKey(name: string): string {
    return lockKey(this.prefix, name);
  }

  processKey(processHash: string): string {
    return processKey(this.prefix, processHash);
  }

  /** The pub/sub channel on which a release of `name` is announced: the full key, client prefix included. */
  wakeChannel(name: string): string {
    return this.transport.clientKeyPrefix + this.lockKey(name);
  }

  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.transport, script, keys, args);
  }

  /**
   * Resolves once the last write to `key` reached waitForReplicas replicas
   * (at once when that is 0); throws a transient RedisCommandError otherwise.
   */
  async replicated(operation: string, key: string): Promise<void> {
    if (this.waitForReplicas === 0) return;
    let acked: number;
    try {
      acked = await this.transport.waitForReplicas!(key, this.waitForReplicas, this.replicationTimeoutMs);
    } catch (error) {
      throw toRedisCommandError(operation, error);
    }
    if (acked < this.waitForReplicas) {
      throw new RedisCommandError(
        operation,
        "NOREPLICAS",
        true,
        `the write reached ${acked} of ${this.waitForReplicas} replicas within ${this.replicationTimeoutMs} ms`,
      );
    }
  }
}

export type Database = RedisDatabase;

export function isDatabase(value: unknown): value is Database {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DATABASE_BRAND] === true;
}

export function isDatabaseReference(value: unknown): value is DatabaseReference {
  const v = value as Partial<DatabaseReference> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    !isDatabase(v) &&
    typeof v.moduleName === "string" &&
    v.moduleName.length > 0 &&
    typeof v.exportName === "string" &&
    v.exportName.length > 0
  );
}

function isTransport(value: unknown): value is Transport {
  return hasShape(value, { kind: "string", clientKeyPrefix: "string", evalsha: "function", eval: "function" });
}
