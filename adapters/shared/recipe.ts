import type { RedisDatabase } from "../../src/database";
import type { ClientRecipe } from "../../src/transport";
import { describeUpstash } from "../../src/upstash-transport";

/**
 * What a liveness thread (Node worker, Deno Web Worker) rebuilds a database
 * instance from; throws a clear error when its client cannot be described.
 * A function, not a method, so that edge bundles, which never need it, drop it.
 */
export function recipeOf(db: RedisDatabase): ClientRecipe {
  const { transport } = db;
  // Only the Upstash transport carries its client (its description reads the client's URL and token).
  const describe = transport.describe ?? (transport.client !== undefined ? () => describeUpstash(transport.client) : undefined);
  if (!describe) {
    throw new TypeError(
      `pulselock: a ${db.transport.kind} client cannot be rebuilt in a liveness thread; ` + "pass the database as { moduleName, exportName } instead",
    );
  }
  return {
    ...describe(),
    database: { prefix: db.prefix, waitForReplicas: db.waitForReplicas, replicationTimeoutMs: db.replicationTimeoutMs },
  };
}
