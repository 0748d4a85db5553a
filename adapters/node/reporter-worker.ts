/*
 * The liveness thread: builds its own Redis client (a thread cannot share the
 * main thread's socket) and writes this process's liveness record every
 * reportWriteMs, untouched by whatever blocks the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Database } from "../../src/database";
import { ReporterLoop } from "../../src/reporter-loop";
import type { ClientRecipe } from "../../src/transport";
import { loadDatabase } from "./load-database";
import { RedisDatabase } from "./redis-database";
import {
  type FromReporter,
  type ReporterWorkerData,
  type ToReporter,
  Slot,
  atomicMax,
  hrtimeNs,
  serializeError,
} from "./reporter-protocol";

const data = workerData as ReporterWorkerData;
const shared = new BigInt64Array(data.shared);
const post = (message: FromReporter) => parentPort!.postMessage(message);
let close: () => Promise<void> = async () => {};

async function fromRecipe(recipe: ClientRecipe): Promise<Database> {
  if (recipe.kind === "ioredis" || recipe.kind === "ioredis-cluster") {
    const { default: Redis } = (await import("ioredis")) as unknown as {
      default: { new (o: object): object; Cluster: new (nodes: unknown[], o: object) => object };
    };
    const client = (recipe.kind === "ioredis"
      ? new Redis(recipe.options)
      : new Redis.Cluster(recipe.startupNodes, recipe.options)) as { quit(): Promise<unknown>; on(e: string, f: () => void): void };
    client.on("error", () => {}); // failures surface as failed writes, which are reported
    close = async () => void (await client.quit().catch(() => {}));
    return new RedisDatabase(client, recipe.database);
  }
  const { Redis } = (await import(/* optional peer */ "@upstash/redis" as string)) as unknown as { Redis: new (o: object) => object };
  return new RedisDatabase(new Redis({ url: recipe.url, token: recipe.token }), recipe.database);
}

async function main(): Promise<void> {
  const db = "reference" in data.source ? await loadDatabase(data.source.reference) : await fromRecipe(data.source.recipe);
  const now = () => Number(hrtimeNs()) / 1e6;
  const loop = new ReporterLoop(db, {
    reportWriteMs: data.reportWriteMs,
    reportTtlMs: data.reportTtlMs,
    now,
    data: data.data,
    onWritten: ({ generation }, sentAt) => {
      const first = Atomics.load(shared, Slot.GENERATION) !== BigInt(generation);
      Atomics.store(shared, Slot.SENT_AT_NS, BigInt(Math.round(sentAt * 1e6)));
      if (first) {
        Atomics.store(shared, Slot.GENERATION, BigInt(generation));
        post({ type: "written", generation });
      }
    },
    onLapse: ({ generation }) => {
      atomicMax(shared, Slot.LAPSED, BigInt(generation));
      post({ type: "lapsed", generation });
    },
    onError: (error) => post({ type: "error", error: serializeError(error) }),
  });
  parentPort!.on("message", (message: ToReporter) => {
    if (message.type === "identity") {
      // Whatever was written before belongs to an identity that is over: retire it before the new one's first write.
      atomicMax(shared, Slot.LAPSED, BigInt(message.generation - 1));
      loop.start({ processHash: message.processHash, generation: message.generation });
    } else if (message.type === "stop") {
      loop
        .stop()
        .catch((error) => post({ type: "error", error: serializeError(error) }))
        .then(close)
        .finally(() => post({ type: "stopped" }));
    }
  });
  post({ type: "ready" });
}

main().catch((error) => post({ type: "fatal", error: serializeError(error) }));
