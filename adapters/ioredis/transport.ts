/*
 * Adapts an ioredis client (Redis or Cluster) to pulselock's Transport. The
 * client is recognised by its shape and only typed from ioredis, never
 * imported, so the root entry stays free of client libraries.
 */
import type { Cluster, Redis } from "ioredis";
import { clusterSlot } from "../../src/cluster-slot";
import { messageOf } from "../../src/errors";
import { hasShape } from "../../src/shape";
import type { ClientRecipe, Subscriber, Transport } from "../../src/transport";
import type { IoredisClientLike } from "../../src/database";

/** The commands pulselock calls on ioredis, and what it reads to describe the client to a thread. */
type IoredisCommands = Pick<Redis, "evalsha" | "eval" | "duplicate" | "options">;
/** The commands pulselock calls on an ioredis Cluster, plus `isCluster`, which switches to per-slot behaviour (hash tags, sharded pub/sub). */
type IoredisClusterCommands = Pick<Cluster, "evalsha" | "eval" | "duplicate" | "options" | "isCluster">;

/**
 * An ioredis `Redis` client, in the public types: by shape (the core's IoredisClientLike), not as a Pick of ioredis's
 * class as above, so that the package's declarations import nothing from ioredis. An app that installs only
 * @upstash/redis must still compile with `skipLibCheck: false` under node16 resolution.
 */
export type IoredisClient = IoredisClientLike;
/** An ioredis `Cluster` client, in the public types (see IoredisClient). */
export interface IoredisCluster extends IoredisClientLike {
  /** True on an ioredis Cluster: pulselock then works per slot (hash tags, sharded pub/sub). */
  readonly isCluster: boolean;
}

type AnyIoredis = (IoredisCommands | IoredisClusterCommands) & { isCluster?: boolean };

function isIoredis(client: unknown): client is AnyIoredis {
  return hasShape(client, { evalsha: "function", eval: "function", duplicate: "function", options: "object" });
}

/**
 * Retry, reconnect and DNS policies are functions and cannot cross threads;
 * the liveness thread uses ioredis's defaults for them, which suit a writer that
 * retries every reportWriteMs anyway. Any other function is an error.
 */
const POLICY_OPTIONS = new Set([
  "retryStrategy",
  "sentinelRetryStrategy",
  "sentinelReconnectStrategy",
  "clusterRetryStrategy",
  "reconnectOnError",
  "dnsLookup",
  "resolveSrv",
]);

/** ioredis options, cloned for the liveness thread. */
function cloneableOptions(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (typeof value === "function") {
      if (POLICY_OPTIONS.has(name)) continue;
      throw new TypeError(
        `pulselock: the ioredis option ${name} is a function, which cannot be sent to the liveness thread. ` +
          "Export the RedisDatabase from a module and pass database: { moduleName, exportName } instead",
      );
    }
    if (value !== undefined) out[name] = value;
  }
  try {
    return structuredClone(out);
  } catch (error) {
    throw new TypeError(
      "pulselock: the ioredis options cannot be cloned into the liveness thread " +
        `(${messageOf(error)}). ` +
        "Export the RedisDatabase from a module and pass database: { moduleName, exportName } instead",
      { cause: error },
    );
  }
}

/**
 * One subscriber connection. On a cluster it uses sharded pub/sub
 * (SSUBSCRIBE): the release script SPUBLISHes on a channel in the lock's own
 * slot, so a wake-up touches one shard instead of every node.
 */
function openSubscriber(client: AnyIoredis, onMessage: (channel: string) => void, onError: (error: unknown) => void): Subscriber {
  const cluster = client.isCluster === true;
  const sub = cluster
    ? // No keyPrefix: ioredis would prefix SSUBSCRIBE's channel (a key to it) a second time.
      (client.duplicate as (nodes?: unknown, o?: object) => Cluster).call(client, undefined, {
        shardedSubscribers: true,
        keyPrefix: "",
      })
    : (client.duplicate as () => Redis).call(client);
  // The subscriber only speeds up waiting; its socket must not keep the process alive.
  const unref = () => (sub as unknown as { stream?: { unref?: () => void } }).stream?.unref?.();
  sub.on("connect", unref);
  unref();
  sub.on("error", onError);
  sub.on(cluster ? "smessage" : "message", (channel: string) => onMessage(channel));
  const s = sub as unknown as Record<"subscribe" | "unsubscribe" | "ssubscribe" | "sunsubscribe", (c: string) => Promise<unknown>>;
  return {
    subscribe: async (channel) => void (await (cluster ? s.ssubscribe(channel) : s.subscribe(channel))),
    unsubscribe: async (channel) => void (await (cluster ? s.sunsubscribe(channel) : s.unsubscribe(channel))),
    close: async () => {
      sub.disconnect();
    },
  };
}

/** What pulselock uses of a client's connection: its state, its "error" events, and closing it. */
interface Connection {
  status?: string;
  on(event: "error", listener: (error: unknown) => void): unknown;
  off(event: "error", listener: (error: unknown) => void): unknown;
  once(event: "end", listener: () => void): unknown;
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * The background-error listeners of each client, behind one "error" listener per client: many Lockers on one
 * client must not add one each (Node warns past ten listeners).
 */
const ERROR_WATCHERS = new WeakMap<Connection, { watchers: Set<(error: unknown) => void>; listener: (error: unknown) => void }>();

function watchClientErrors(client: Connection, onError: (error: unknown) => void): () => void {
  let entry = ERROR_WATCHERS.get(client);
  if (!entry) {
    const watchers = new Set<(error: unknown) => void>();
    entry = { watchers, listener: (error) => watchers.forEach((watch) => watch(error)) };
    ERROR_WATCHERS.set(client, entry);
    client.on("error", entry.listener);
  }
  const { watchers, listener } = entry;
  watchers.add(onError);
  return () => {
    // The last Locker gone: the client's errors are the app's again (ioredis prints them when nobody listens).
    if (!watchers.delete(onError) || watchers.size > 0) return;
    ERROR_WATCHERS.delete(client);
    client.off("error", listener);
  };
}

/** QUIT waits for a connection that is up; one that is not (Redis unreachable) is dropped instead, or close() would wait for it. */
async function closeClient(client: Connection): Promise<void> {
  if (client.status === "end") return;
  if (client.status !== "ready") return client.disconnect();
  // QUIT's reply comes before the socket has closed: wait for that, so that a closed client is really closed.
  const ended = new Promise<void>((resolve) => client.once("end", resolve));
  await client.quit().catch(() => client.disconnect());
  if ((client.status as string) !== "end") await ended;
}

/** What a cluster client exposes about its topology: slot → node addresses (master first), and its node connections. */
interface ClusterInternals {
  slots: string[][];
  nodes(role: "master"): { options: { host?: string; port?: number } }[];
}

/** The connection to the master that owns `slot`, the same one that carried the write to WAIT for. */
function masterOf(cluster: ClusterInternals, slot: number): unknown {
  const address = cluster.slots[slot]?.[0];
  const node = cluster.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === address);
  if (!node) throw new Error(`CLUSTERDOWN no known master for slot ${slot}`);
  return node;
}

/**
 * Wraps an ioredis `Redis` or `Cluster` client as a {@link Transport}, or
 * returns undefined when `client` is not one (so that RedisDatabase can try the
 * next adapter). Recognised by shape, not `instanceof`, so that any ioredis
 * copy or version works and pulselock never imports ioredis itself.
 */
export function ioredisTransport(client: unknown): Transport | undefined {
  if (!isIoredis(client)) return undefined;
  const cluster = client.isCluster === true;
  const options = client.options as Record<string, unknown>;
  // What each connection is made with: a cluster's node options are its redisOptions (a keyPrefix may sit on either level).
  const nodeOptions = (cluster ? options.redisOptions : options) as Record<string, unknown> | undefined;
  const clientKeyPrefix = String((cluster ? options.keyPrefix : undefined) ?? nodeOptions?.keyPrefix ?? "");
  if (nodeOptions?.stringNumbers) {
    throw new TypeError(
      "pulselock: the ioredis option stringNumbers turns integer replies into strings, and pulselock's scripts tell " +
        "an outcome (an integer) from a value found in Redis (a string) by type. Give pulselock a client without it, " +
        "for example client.duplicate({ stringNumbers: false })",
    );
  }
  const c = client as unknown as {
    evalsha(sha: string, numKeys: number, ...rest: string[]): Promise<unknown>;
    eval(src: string, numKeys: number, ...rest: string[]): Promise<unknown>;
  };
  return {
    kind: cluster ? "ioredis-cluster" : "ioredis",
    clientKeyPrefix,
    isCluster: cluster,
    evalsha: (sha, keys, args) => c.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => c.eval(source, keys.length, ...keys, ...args),
    openSubscriber: (onMessage, onError) => openSubscriber(client, onMessage, onError),
    close: () => closeClient(client as unknown as Connection),
    watchErrors: (onError) => watchClientErrors(client as unknown as Connection, onError),
    watchConnection: (onFailure) => {
      const events = client as unknown as Connection;
      const stop = watchClientErrors(events, onFailure);
      // A lazyConnect client connects on its first command, which is the acquire's anyway: connect now, to learn now.
      if (events.status === "wait") events.connect().catch(() => {});
      return stop;
    },
    waitForReplicas: async (key, replicas, timeoutMs) => {
      const node = cluster ? masterOf(client as unknown as ClusterInternals, clusterSlot(clientKeyPrefix + key)) : client;
      return Number(await (node as Redis).call("WAIT", String(replicas), String(timeoutMs)));
    },
    describe(): ClientRecipe {
      if (cluster) {
        const startupNodes = structuredClone((client as unknown as { startupNodes: unknown[] }).startupNodes) as unknown[];
        const { redisOptions, ...rest } = options as { redisOptions?: Record<string, unknown> };
        const clusterOptions = cloneableOptions(rest);
        if (redisOptions) clusterOptions.redisOptions = cloneableOptions(redisOptions);
        return { kind: "ioredis-cluster", startupNodes, options: clusterOptions };
      }
      return { kind: "ioredis", options: cloneableOptions(options) };
    },
  };
}
