// The chaos workers' database module. The Locker gets it as a reference, so
// its liveness thread imports it too and builds its own connection: both go
// through the worker's own TCP proxies (chaos/proxy-group.mjs), which is how a
// fault can cut one worker off from Redis. CHAOS_REDIS_URL names one server;
// CHAOS_REDIS_CLUSTER a Redis Cluster behind one proxy per node.
import { Redis, Cluster } from "ioredis";
import { RedisDatabase } from "pulselock";

const url = process.env.CHAOS_REDIS_URL;
const cluster = process.env.CHAOS_REDIS_CLUSTER;
if (!url && !cluster) throw new Error("chaos/db.mjs: CHAOS_REDIS_URL or CHAOS_REDIS_CLUSTER must be set (run chaos/run.mjs instead)");

function connect() {
  if (!cluster) return new Redis(url);
  const { startupNodes, natMap } = JSON.parse(cluster);
  return new Cluster(startupNodes, { natMap });
}

const client = connect();
// Connection errors are what the chaos run is made of; pulselock reports the ones that matter to
// locker.errors. Without a listener ioredis would print every one of them.
client.on("error", () => {});

export const db = new RedisDatabase(client);
