// A worker's way to Redis: one TCP proxy (test/support/tcp-proxy.mjs) per
// redis-server, driven as one, so that a fault cuts the worker off from the
// whole cluster at once. `env` tells chaos/db.mjs how to connect through them:
// a redis:// URL for one server, or a cluster's proxied startup nodes and the
// natMap that sends every node address the cluster announces to its proxy.
import { startProxy } from "../test/support/tcp-proxy.mjs";

export async function startProxyGroup({ ports, cluster }) {
  const proxies = await Promise.all(ports.map((port) => startProxy(port)));
  const each = (fn) => proxies.forEach(fn);
  const env = cluster
    ? {
        CHAOS_REDIS_CLUSTER: JSON.stringify({
          startupNodes: proxies.map((p) => ({ host: "127.0.0.1", port: p.port })),
          natMap: Object.fromEntries(ports.map((port, i) => [`127.0.0.1:${port}`, { host: "127.0.0.1", port: proxies[i].port }])),
        }),
      }
    : { CHAOS_REDIS_URL: proxies[0].url };
  return {
    env,
    /** The single proxy's URL (an upstash-dev REST server connects to one Redis). */
    url: proxies[0].url,
    blackhole: () => each((p) => p.blackhole()),
    delay: (ms) => each((p) => p.delay(ms)),
    pass: (options) => each((p) => p.pass(options)),
    dropConnections: () => each((p) => p.dropConnections()),
    close: () => Promise.all(proxies.map((p) => p.close())),
  };
}
