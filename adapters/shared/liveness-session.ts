/*
 * The body of a liveness thread or Web Worker, whatever the runtime: it gets
 * the database (a module reference, or a recipe to rebuild the client from),
 * writes the liveness record with a LivenessLoop, records write times in
 * shared memory for the main thread, and answers identity and stop messages.
 */
import type { DatabaseModule, RedisDatabase } from "../../src/database";
import { LivenessLoop } from "../../src/liveness-loop";
import { databaseFromRecipe } from "./database-from-recipe";
import { type FromLivenessWorker, type LivenessWorkerData, type ToLivenessWorker, serializeError } from "./liveness-protocol";
import { SharedWriteRecorder } from "./shared-write-times";

export type LivenessSettings = Pick<LivenessWorkerData, "shared" | "source" | "reportWriteMs" | "reportTtlMs" | "data" | "reportWriteTimes">;

/** What the runtime's worker entry brings: how it loads a database reference, and its RedisDatabase (which clients it knows). */
export interface LivenessRuntime {
  loadDatabase(reference: DatabaseModule): Promise<RedisDatabase>;
  RedisDatabase: typeof RedisDatabase;
}

/**
 * Builds the database and the loop; resolves with the handler of the main
 * thread's messages. `localNow` is any monotonic clock of this thread; the
 * "clock" message maps it onto the main thread's, on which write times are
 * read there. A message arrives after it was sent, so the mapping can only
 * err towards earlier send times, which moves the main thread's self-fencing
 * deadline earlier (the safe side), by one message latency at most.
 */
export async function startLivenessSession(
  settings: LivenessSettings,
  runtime: LivenessRuntime,
  localNow: () => number,
  post: (message: FromLivenessWorker) => void,
): Promise<(message: ToLivenessWorker) => void> {
  let offset = 0;
  const now = () => localNow() + offset;
  let db: RedisDatabase;
  let close: () => Promise<void> = async () => {};
  if ("reference" in settings.source) {
    db = await runtime.loadDatabase(settings.source.reference);
  } else {
    ({ db, close } = await databaseFromRecipe(settings.source.recipe, runtime.RedisDatabase));
  }
  const recorder = new SharedWriteRecorder(settings.shared);
  const loop = new LivenessLoop(db, {
    reportWriteMs: settings.reportWriteMs,
    reportTtlMs: settings.reportTtlMs,
    now,
    data: settings.data,
    onWritten: ({ generation }, sentAt) => {
      if (recorder.written(generation, sentAt)) post({ type: "written", generation });
    },
    onLapse: ({ generation }) => {
      recorder.lapsed(generation);
      post({ type: "lapsed", generation });
    },
    onError: (error) => post({ type: "error", error: serializeError(error) }),
    onRefused: ({ generation }, error) => post({ type: "refused", generation, error: serializeError(error) }),
    onWriteTime: settings.reportWriteTimes ? (ms, ok) => post({ type: "write-time", ms, ok }) : undefined,
  });
  return (message) => {
    if (message.type === "clock") {
      offset = message.mainNow - localNow();
    } else if (message.type === "identity") {
      recorder.beginIdentity(message.generation);
      loop.start({ processHash: message.processHash, generation: message.generation });
    } else if (message.type === "stop") {
      // Every failure is posted: a rejection here would be unhandled in the thread.
      void loop
        .stop()
        .catch((error) => post({ type: "error", error: serializeError(error) }))
        .then(close)
        .catch((error) => post({ type: "error", error: serializeError(error) }))
        .finally(() => post({ type: "stopped" }));
    }
  };
}
