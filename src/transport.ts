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
  /**
   * Runs a script by its SHA1, the cheap path: the script text is not sent.
   * Must reject with Redis's `NOSCRIPT` error when the server does not know the
   * script, so that pulselock can fall back to {@link Transport.eval}.
   */
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  /** Runs a script from its source, after a `NOSCRIPT` (a restart or `SCRIPT FLUSH` emptied the script cache). */
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * Sends WAIT to the master that owns `key` (as passed to eval, without the
   * client's prefix), on the connection that carried the last write, and
   * returns how many replicas acknowledged it. Absent where the client cannot.
   */
  waitForReplicas?(key: string, replicas: number, timeoutMs: number): Promise<number>;
  /** Opens one new connection for release wake-ups; absent where the client has no pub/sub (HTTP). */
  openSubscriber?(onMessage: (channel: string) => void, onError: (error: unknown) => void): Subscriber;
  /** Closes the client (RedisDatabase.close()); absent where the client holds nothing open (HTTP). */
  close?(): Promise<void>;
  /**
   * Calls `onFailure` with the client's own error each time it fails to
   * connect (refused, unknown host, TLS, timeout), until the returned function
   * is called. A first acquire fails with it at once instead of waiting for a
   * liveness write that the client can only retry. Absent on HTTP clients,
   * whose requests fail by themselves.
   */
  watchConnection?(onFailure: (error: unknown) => void): () => void;
  /**
   * Calls `onError` with every error the client emits in the background (a dropped connection, each failed
   * reconnect), until the returned function is called: a Locker puts them on `locker.errors`, as
   * @clickup/distributed-locker did, rather than leave the client to print them. Absent on HTTP clients.
   */
  watchErrors?(onError: (error: unknown) => void): () => void;
  /** The @upstash/redis client this transport wraps: a liveness thread rebuilds it from its URL and token. */
  readonly client?: unknown;
  /**
   * A structured-clone-able recipe from which another thread rebuilds an
   * equivalent client. Throws a clear error when the client cannot be described.
   */
  describe?(): ClientRecipe;
}

/**
 * One pub/sub connection that wakes mutex() waiters when a lock is released,
 * so that they need not poll. Subscriptions follow the waiters: a channel is
 * subscribed while someone waits on its lock.
 */
export interface Subscriber {
  /** Starts receiving the release announcements of one lock (sharded pub/sub on a cluster, so it works on any slot). */
  subscribe(channel: string): Promise<void>;
  /** Stops receiving a lock's announcements once nobody waits on it. */
  unsubscribe(channel: string): Promise<void>;
  /** Closes the connection when no waiter is left, so that an idle Locker holds no extra socket. */
  close(): Promise<void>;
}

/**
 * How a liveness thread rebuilds the client of a RedisDatabase given as an
 * instance (a thread cannot share the main thread's socket): the `kind` of
 * client with its structured-clone-able options (ioredis), startup nodes and
 * options (ioredis Cluster), or URL and token (Upstash), plus the
 * RedisDatabase options the thread must apply too.
 */
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
