/*
 * The body of a liveness thread or Web Worker, whatever the runtime: it gets
 * the database (a module reference, or a recipe to rebuild the client from),
 * writes the liveness record with a ReporterLoop, records write times in
 * shared memory for the main thread, and answers identity and stop messages.
 */
import type { Database } from "../../src/database";
import { ReporterLoop } from "../../src/reporter-loop";
import { loadDatabase } from "../node/load-database";
import { type FromReporter, type ReporterWorkerData, type ToReporter, serializeError } from "../node/reporter-protocol";
import { databaseFromRecipe } from "./database-from-recipe";
import { SharedWriteRecorder } from "./shared-write-times";

export type ReporterSettings = Pick<ReporterWorkerData, "shared" | "source" | "reportWriteMs" | "reportTtlMs" | "data">;

/**
 * Builds the database and the loop; resolves with the handler of the main
 * thread's messages. `localNow` is any monotonic clock of this thread; the
 * "clock" message maps it onto the main thread's, on which write times are
 * read there. A message arrives after it was sent, so the mapping can only
 * err towards earlier send times, which moves the main thread's self-fencing
 * deadline earlier (the safe side), by one message latency at most.
 */
export async function startReporterSession(
  settings: ReporterSettings,
  localNow: () => number,
  post: (message: FromReporter) => void,
): Promise<(message: ToReporter) => void> {
  let offset = 0;
  const now = () => localNow() + offset;
  let db: Database;
  let close: () => Promise<void> = async () => {};
  if ("reference" in settings.source) {
    db = await loadDatabase(settings.source.reference);
  } else {
    ({ db, close } = await databaseFromRecipe(settings.source.recipe));
  }
  const recorder = new SharedWriteRecorder(settings.shared);
  const loop = new ReporterLoop(db, {
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
  });
  return (message) => {
    if (message.type === "clock") {
      offset = message.mainNow - localNow();
    } else if (message.type === "identity") {
      recorder.beginIdentity(message.generation);
      loop.start({ processHash: message.processHash, generation: message.generation });
    } else if (message.type === "stop") {
      loop
        .stop()
        .catch((error) => post({ type: "error", error: serializeError(error) }))
        .then(close)
        .finally(() => post({ type: "stopped" }));
    }
  };
}
