import type { ConformanceContext } from "../conformance/context";

/** How many connections of the server (every node's on a cluster, as the admin client sees them) are subscribed to a channel. */
export async function subscriberConnections(ctx: ConformanceContext): Promise<number> {
  return String(await ctx.admin("CLIENT", "LIST"))
    .split("\n")
    .filter((line) => / s?sub=[1-9]/.test(line)).length;
}
