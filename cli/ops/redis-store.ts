/*
 * The Store over ioredis: a single server, or every master of a Redis
 * Cluster (found out from INFO, or forced by --cluster). Reads go through
 * ioredis' auto-pipelining, which on a cluster groups them by node, so a
 * chunk of reads costs one round trip per node.
 */
import type { Cluster, Redis, RedisOptions } from "ioredis";
import { ioredisTransport } from "../../adapters/ioredis/transport";
import { withTimeout } from "../../src/timers";
import { CliError } from "./args";
import { SCAN_COUNT, parseUrl, redactUrl, scrub, type Store } from "./store";

/** A dead host must fail the command in seconds, not be retried forever. */
const CONNECT_TIMEOUT_MS = 5000;
/** A host that takes the connection but never answers (a frozen redis-server, another service) too. */
const COMMAND_TIMEOUT_MS = 5000;

async function loadIoredis(): Promise<typeof import("ioredis")> {
  try {
    return await import("ioredis");
  } catch {
    throw new CliError("--redis needs the ioredis package: npm install ioredis");
  }
}

export async function connectRedis(text: string, forceCluster: boolean): Promise<Store> {
  const url = parseUrl("redis", text, ["redis:", "rediss:"]);
  const where = redactUrl(url);
  const secrets = [url.password, decodeURIComponent(url.password)];
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw new CliError(`--redis: the database "${db}" is not a number`, 2);
  const { Redis, Cluster } = await loadIoredis();
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: db === "" ? undefined : Number(db),
    tls: url.protocol === "rediss:" ? {} : undefined,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // The ready check sends INFO, which a tenant ACL without @dangerous refuses (SECURITY.md): the first command tells.
    enableReadyCheck: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    enableAutoPipelining: true,
  };
  // ioredis rejects connect() with "Connection is closed."; the cause (ECONNREFUSED, ENOTFOUND, WRONGPASS) came as an "error" event.
  let cause: unknown;
  const fail = (error: unknown): never => {
    throw new CliError(`cannot use Redis at ${where}: ${describeFailure(cause ?? error, secrets)}`);
  };
  const single = new Redis(options);
  single.on("error", (error: unknown) => (cause ??= error));
  let isCluster = forceCluster;
  try {
    // ioredis waits for a frozen server's first reply without end.
    const budget = CONNECT_TIMEOUT_MS + COMMAND_TIMEOUT_MS;
    await withTimeout(single.connect(), budget, () => new Error(`no reply within ${budget} ms`));
    isCluster ||= await clusterEnabled(single);
  } catch (error) {
    single.disconnect();
    fail(error);
  }
  if (!isCluster) return redisStore(single, where, false, secrets);
  single.disconnect();
  const { host, port, db: _db, ...redisOptions } = options;
  const cluster = new Cluster([{ host, port }], {
    redisOptions,
    lazyConnect: true,
    enableAutoPipelining: true,
    clusterRetryStrategy: () => null,
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
  });
  cluster.on("error", (error: unknown) => (cause ??= error));
  try {
    await cluster.connect();
  } catch (error) {
    cluster.disconnect();
    fail(error);
  }
  return redisStore(cluster, where, true, secrets);
}

/**
 * Whether the server is a cluster node, from INFO cluster. A user whose ACL refuses INFO (`-@dangerous`, SECURITY.md)
 * gets a single Redis: on a cluster, --cluster says so.
 */
async function clusterEnabled(client: Redis): Promise<boolean> {
  try {
    return /cluster_enabled:1/.test(await client.info("cluster"));
  } catch (error) {
    if (isReplyError(error) && /NOPERM/.test(error.message)) return false;
    throw error;
  }
}

function redisStore(client: Redis | Cluster, where: string, isCluster: boolean, secrets: (string | undefined)[]): Store {
  const call = (c: Redis | Cluster, command: string[]) => c.call(command[0]!, ...command.slice(1));
  return {
    where,
    isCluster,
    transport: ioredisTransport(client)!,
    async *scan(pattern) {
      const nodes = isCluster ? (client as Cluster).nodes("master") : [client as Redis];
      for (const node of nodes) {
        let cursor = "0";
        do {
          const [next, keys] = (await guard(() => node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT), where, secrets)) as [string, string[]];
          cursor = next;
          if (keys.length > 0) yield keys;
        } while (cursor !== "0");
      }
    },
    async run(commands) {
      // Each command settles on its own: one refused read (WRONGTYPE) must not hide the others' replies.
      const replies = await Promise.all(commands.map((c) => call(client, c).catch((error: unknown) => (isReplyError(error) ? error : { failed: error }))));
      const failed = replies.find((r): r is { failed: unknown } => typeof r === "object" && r !== null && "failed" in r);
      if (failed) throw new CliError(`lost Redis at ${where}: ${describeFailure(failed.failed, secrets)}`);
      return replies;
    },
    async close() {
      client.disconnect();
    },
  };
}

async function guard<T>(fn: () => Promise<T>, where: string, secrets: (string | undefined)[]): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new CliError(`Redis at ${where} failed: ${describeFailure(error, secrets)}`);
  }
}

/** Redis answered this command with an error (as opposed to the connection failing). */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

/** A client error as one line for a human: what Redis or the network said, with a hint for the usual causes. */
export function describeFailure(error: unknown, secrets: (string | undefined)[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = /^NOAUTH/.test(message)
    ? " (Redis needs a password: redis://:password@host:port)"
    : /WRONGPASS|invalid password|invalid username/i.test(message)
      ? " (wrong user name or password)"
      : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|connect/i.test(message)
        ? " (is the host and port right, and is Redis running?)"
        : "";
  return scrub(message, secrets) + hint;
}
