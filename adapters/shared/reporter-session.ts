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
 * thread's messages. `now` must be the main thread's clock (or one that never
 * runs ahead of it): write times are compared with it there.
 */
export async function startReporterSession(
  settings: ReporterSettings,
  now: () => number,
  post: (message: FromReporter) => void,
): Promise<(message: ToReporter) => void> {
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
  });
  return (message) => {
    if (message.type === "identity") {
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
