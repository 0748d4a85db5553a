/**
 * The few things pulselock needs from a Redis client. Every lock operation is
 * a Lua script, so a transport only maps `(keys[], args[])` onto its client's
 * EVALSHA and EVAL; everything else is optional.
 */
export interface Transport {
  /** A short name for messages: "ioredis", "ioredis-cluster", "upstash", … */
  readonly kind: string;
  /**
   * The prefix the client itself puts in front of every key (ioredis
   * `keyPrefix`), so that pub/sub channels can be named after the full key.
   */
  readonly clientKeyPrefix: string;
  /**
   * True on Redis Cluster, where keys of different lock names and liveness
   * records live in different slots, so one script may touch one lock's keys only.
   */
  readonly isCluster?: boolean;
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * Sends WAIT to the master that owns `key` (as passed to eval, without the
   * client's prefix), on the connection that carried the last write, and
   * returns how many replicas acknowledged it. Absent where the client cannot.
   */
  waitForReplicas?(key: string, replicas: number, timeoutMs: number): Promise<number>;
  /** Opens one new connection for release wake-ups; absent where the client has no pub/sub (HTTP). */
  openSubscriber?(onMessage: (channel: string) => void, onError: (error: unknown) => void): Subscriber;
  /** The client this transport wraps, where a liveness thread may rebuild it from its settings. */
  readonly client?: unknown;
  /**
   * A structured-clone-able recipe from which another thread rebuilds an
   * equivalent client. Throws a clear error when the client cannot be described.
   */
  describe?(): ClientRecipe;
}

export interface Subscriber {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/** How a liveness thread rebuilds the client of a RedisDatabase given as an instance. */
export type ClientRecipe = (
  | { kind: "ioredis"; options: Record<string, unknown> }
  | { kind: "ioredis-cluster"; startupNodes: unknown[]; options: Record<string, unknown> }
  | { kind: "upstash"; url: string; token: string }
) & { database?: RedisDatabaseSettings };

/** The RedisDatabase options a liveness thread must apply too. */
export interface RedisDatabaseSettings {
  prefix?: string;
  waitForReplicas?: number;
  replicationTimeoutMs?: number;
}
