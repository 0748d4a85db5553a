import { ioredisTransport } from "../adapters/ioredis/transport";
import { lockKey, processKey } from "./keys";
import { describe } from "./options";
import { runScript } from "./run-script";
import type { LuaScript } from "./scripts/script";
import type { ClientRecipe, Transport } from "./transport";

/** Where a liveness thread finds the database: a module and the name of its export. */
export interface DatabaseReference {
  /** An absolute path, a `file:` URL, or a package name; ESM or CJS. */
  moduleName: string;
  /** The name of the export that holds the RedisDatabase. */
  exportName: string;
}

export interface RedisDatabaseOptions {
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
 * `Redis` or `Cluster`, or any {@link Transport}); the client is recognised
 * by its shape, so pulselock never imports a client library itself.
 */
export class RedisDatabase {
  readonly transport: Transport;
  readonly prefix: string;

  constructor(client: unknown, options: RedisDatabaseOptions = {}) {
    const transport = toTransport(client);
    if (!transport) {
      throw new TypeError(
        "pulselock: RedisDatabase needs an ioredis Redis or Cluster client (or a pulselock Transport), " +
          `got ${describe(client)}`,
      );
    }
    const prefix = options.prefix ?? "";
    if (typeof prefix !== "string") {
      throw new TypeError(`pulselock: RedisDatabase option prefix must be a string, got ${describe(prefix)}`);
    }
    this.transport = transport;
    this.prefix = prefix;
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

  /** A recipe a liveness thread can rebuild this database from; throws a clear error when there is none. */
  recipe(): ClientRecipe {
    if (!this.transport.describe) {
      throw new TypeError(
        `pulselock: a ${this.transport.kind} client cannot be rebuilt in a liveness thread; ` +
          "pass the database as { moduleName, exportName } instead",
      );
    }
    return { ...this.transport.describe(), prefix: this.prefix };
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
  const t = value as Partial<Transport> | null;
  return (
    typeof t === "object" &&
    t !== null &&
    typeof t.kind === "string" &&
    typeof t.clientKeyPrefix === "string" &&
    typeof t.evalsha === "function" &&
    typeof t.eval === "function"
  );
}

function toTransport(client: unknown): Transport | undefined {
  if (isTransport(client)) return client;
  return ioredisTransport(client);
}
