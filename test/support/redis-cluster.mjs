// Starts a real Redis Cluster from spawned redis-server processes on free
// loopback ports (masters, plus replicas when asked), for tests and benchmarks.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePort, rawCommand, startRedis } from "./redis-server.mjs";

const run = promisify(execFile);

/** redis-cli, for the cluster admin commands that have no simpler form. */
export async function redisCli(args, { timeoutMs = 60_000 } = {}) {
  const { stdout } = await run(process.env.REDIS_CLI_BIN || "redis-cli", args, { timeout: timeoutMs });
  return stdout;
}

async function waitClusterOk(nodes, deadlineMs = 30_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => n.command("CLUSTER INFO").catch(() => "")));
    if (infos.every((i) => i.includes("cluster_state:ok"))) return;
    if (Date.now() > end) throw new Error("the cluster did not reach cluster_state:ok");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `masters` masters with `replicasPerMaster` replicas each; `extraArgs` go to every redis-server
 * (the chaos run turns on the AOF with them, so that a node's crash-restart keeps its data).
 * Returns { nodes, startupNodes, close(), waitOk(), node(port) }.
 */
export async function startCluster({ masters = 3, replicasPerMaster = 0, nodeTimeoutMs = 2000, extraArgs = [] } = {}) {
  const count = masters * (1 + replicasPerMaster);
  const nodes = await Promise.all(
    Array.from({ length: count }, async () => {
      const busPort = await freePort();
      return startRedis({
        extraArgs: [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-port",
          String(busPort),
          "--cluster-node-timeout",
          String(nodeTimeoutMs),
          "--cluster-require-full-coverage",
          "no",
          ...extraArgs,
        ],
      });
    }),
  );
  await redisCli(["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", String(replicasPerMaster), "--cluster-yes"]);
  await waitClusterOk(nodes);
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    /** Waits for cluster_state:ok on every node that answers PING. */
    waitOk: async () => {
      const up = await Promise.all(
        nodes.map((n) =>
          n.command("PING").then(
            () => n,
            () => undefined,
          ),
        ),
      );
      await waitClusterOk(up.filter(Boolean));
    },
    node: (port) => nodes.find((n) => n.port === port),
    /** The port of the master serving `slot` now, read from CLUSTER SLOTS-free CLUSTER SHARDS-free output. */
    async masterOf(slot) {
      for (const n of nodes) {
        if (n.down) continue;
        const out = await redisCli(["-p", String(n.port), "cluster", "nodes"]).catch(() => "");
        if (!out) continue; // that node is down: ask the next one
        for (const line of out.trim().split("\n")) {
          const parts = line.split(" ");
          if (!parts[2]?.includes("master") || parts[2].includes("fail")) continue;
          for (const range of parts.slice(8)) {
            const [a, b = a] = range.split("-").map(Number);
            if (slot >= a && slot <= b) return Number(parts[1].split(":")[1].split("@")[0]);
          }
        }
        return undefined;
      }
      return undefined;
    },
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

export { rawCommand };
