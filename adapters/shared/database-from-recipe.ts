/*
 * Rebuilds a RedisDatabase from a ClientRecipe inside a liveness thread or
 * Web Worker, which cannot share the main thread's socket. Runtime-neutral:
 * the client libraries are imported by their bare names, so they resolve
 * like any peer dependency of pulselock (node_modules on Node, Bun and Deno),
 * and out of bundlers' sight: each is an optional peer, needed only by the
 * apps that use it. The RedisDatabase class is the runtime entry's, which
 * knows the clients of that runtime.
 */
import type { RedisDatabase } from "../../src/database";
import type { ClientRecipe } from "../../src/transport";
import { DatabaseLoadError, messageOf } from "../../src/errors";
import { dynamicImport } from "./dynamic-import";

export interface RebuiltDatabase {
  db: RedisDatabase;
  /** Closes the client the recipe opened (a no-op for HTTP clients). */
  close(): Promise<void>;
}

/**
 * The thread imports the client library by its name, from node_modules: a bundler that inlined it into the
 * app's chunks, and a deployment that ships only traced files (Next.js `output: "standalone"`), leave none.
 */
async function importClient(name: string): Promise<Record<string, unknown>> {
  try {
    return await dynamicImport(name);
  } catch (error) {
    throw new DatabaseLoadError(
      `pulselock: the liveness thread cannot import ${name}: ${messageOf(error)}. It loads the client library by ` +
        `name, so ${name} must be installed where the app runs (Next.js with output: "standalone": ` +
        `serverExternalPackages: [${JSON.stringify(name)}] in next.config)`,
      { cause: error },
    );
  }
}

/**
 * The thread's own client queues what it sends before it is connected, whatever the app's client does: with
 * `enableOfflineQueue: false` the first liveness write, sent while the new client still connects, would fail as
 * "Redis unreachable" and fail the acquire waiting on it. The loop judges a write by its send time anyway, so a write
 * that waited in the queue is never trusted for longer than it should be.
 */
function queued(options: object): object {
  const redisOptions = (options as { redisOptions?: object }).redisOptions;
  return { ...options, enableOfflineQueue: true, ...(redisOptions ? { redisOptions: { ...redisOptions, enableOfflineQueue: true } } : {}) };
}

export async function databaseFromRecipe(recipe: ClientRecipe, Db: typeof RedisDatabase): Promise<RebuiltDatabase> {
  if (recipe.kind === "ioredis" || recipe.kind === "ioredis-cluster") {
    const { default: Redis } = (await importClient("ioredis")) as unknown as {
      default: { new (o: object): object; Cluster: new (nodes: unknown[], o: object) => object };
    };
    const client = (recipe.kind === "ioredis" ? new Redis(queued(recipe.options)) : new Redis.Cluster(recipe.startupNodes, queued(recipe.options))) as {
      quit(): Promise<unknown>;
      on(e: string, f: () => void): void;
    };
    client.on("error", () => {}); // failures surface as failed writes, which are reported
    // `as never`: the client is typed by a library this module does not import; RedisDatabase knows it by shape.
    return { db: new Db(client as never, recipe.database), close: async () => void (await client.quit().catch(() => {})) };
  }
  const { Redis } = (await importClient("@upstash/redis")) as unknown as { Redis: new (o: object) => object };
  return { db: new Db(new Redis({ url: recipe.url, token: recipe.token }) as never, recipe.database), close: async () => {} };
}
