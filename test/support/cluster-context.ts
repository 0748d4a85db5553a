import Redis, { type Cluster } from "ioredis";
import { RedisDatabase } from "pulselock";
import type { ConformanceContext } from "../conformance/context";
import { startCluster } from "./redis-cluster.mjs";
import { startProxy } from "./tcp-proxy.mjs";

/** Commands that concern a whole node rather than a key: the admin runs them on every master. */
const NODE_WIDE = new Set(["INFO", "CLIENT", "SCRIPT", "FLUSHALL", "KEYS", "CONFIG"]);

export type ClusterContext = ConformanceContext & {
  cluster: Awaited<ReturnType<typeof startCluster>>;
  /** A cluster client without key prefix, for topology commands. */
  adminClient: Cluster;
};

/** The conformance context for ioredis against a real 3-master Redis Cluster (with replicas when asked). */
export async function clusterContext({ replicasPerMaster = 0 } = {}): Promise<ClusterContext> {
  const cluster = await startCluster({ masters: 3, replicasPerMaster });
  const clients: Cluster[] = [];
  const proxies: Awaited<ReturnType<typeof startProxy>>[] = [];
  const prefix = `c${Math.random().toString(36).slice(2, 8)}:`;
  const make = (options: object = {}) => {
    const c = new Redis.Cluster(cluster.startupNodes, { keyPrefix: prefix, ...options });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };
  const admin = new Redis.Cluster(cluster.startupNodes);
  admin.on("error", () => {});
  clients.push(admin);
  const mastersDo = async (args: string[]) => {
    const masters = admin.nodes("master");
    const replies = await Promise.all(masters.map((m) => m.call(args[0]!, ...args.slice(1))));
    if (replies.every(Array.isArray)) return replies.flat();
    if (replies.every((r) => typeof r === "string" && r.includes("\n"))) return replies.join("\n");
    return replies[0];
  };
  return {
    cluster,
    adminClient: admin,
    name: "ioredis-cluster",
    shards: 3,
    supportsPubSub: true,
    prefix,
    server: {
      port: cluster.nodes[0]!.port,
      async restart() {
        // Every node at once, all data lost; nodes.conf survives, so the cluster re-forms.
        await Promise.all(cluster.nodes.map((n) => n.restart()));
        await cluster.waitOk();
      },
    },
    url: `cluster:${cluster.nodes.map((n) => n.port).join(",")}`,
    admin: (...args) => (NODE_WIDE.has(args[0]!.toUpperCase()) ? mastersDo(args) : admin.call(args[0]!, ...args.slice(1))),
    database: (options) => new RedisDatabase(make(), options),
    async partitionedDatabase() {
      const mine = await Promise.all(cluster.nodes.map((n) => startProxy(n.port)));
      proxies.push(...mine);
      const natMap = Object.fromEntries(cluster.nodes.map((n, i) => [`127.0.0.1:${n.port}`, { host: "127.0.0.1", port: mine[i]!.port }]));
      const client = new Redis.Cluster(
        mine.map((p) => ({ host: "127.0.0.1", port: p.port })),
        { keyPrefix: prefix, natMap },
      );
      client.on("error", () => {});
      clients.push(client);
      const all = {
        blackhole: () => mine.forEach((p) => p.blackhole()),
        pass: (o?: { drop?: boolean }) => mine.forEach((p) => p.pass(o)),
        dropConnections: () => mine.forEach((p) => p.dropConnections()),
      };
      return { db: new RedisDatabase(client), proxy: all };
    },
    childArgs: () => ({ url: `cluster:${cluster.nodes.map((n) => n.port).join(",")}`, prefix }),
    async close() {
      for (const p of proxies) await p.close();
      for (const c of clients) c.disconnect();
      await cluster.close();
    },
  };
}
