/*
 * The liveness Web Worker of Deno: builds its own Redis client (a worker
 * cannot share the main thread's socket) and writes this process's liveness
 * record every reportWriteMs, untouched by whatever blocks the main thread.
 * Write times go to the main thread through shared memory, on its clock.
 */
import type { Database } from "../../src/database";
import { ReporterLoop } from "../../src/reporter-loop";
import { loadDatabase } from "../node/load-database";
import { serializeError } from "../node/reporter-protocol";
import { databaseFromRecipe } from "../shared/database-from-recipe";
import { SharedWriteRecorder } from "../shared/shared-write-times";
import { type DenoWorkerData, type FromDenoReporter, type ToDenoReporter, mainClock } from "./worker-protocol";

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent<ToDenoReporter>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const post = (message: FromDenoReporter) => scope.postMessage(message);
let close: () => Promise<void> = async () => {};
let started: Promise<{ loop: ReporterLoop; recorder: SharedWriteRecorder }> | undefined;

async function start(data: DenoWorkerData, now: () => number) {
  let db: Database;
  if ("reference" in data.source) {
    db = await loadDatabase(data.source.reference);
  } else {
    const rebuilt = await databaseFromRecipe(data.source.recipe);
    db = rebuilt.db;
    close = rebuilt.close;
  }
  const recorder = new SharedWriteRecorder(data.shared);
  const loop = new ReporterLoop(db, {
    reportWriteMs: data.reportWriteMs,
    reportTtlMs: data.reportTtlMs,
    now,
    data: data.data,
    onWritten: ({ generation }, sentAt) => {
      if (recorder.written(generation, sentAt)) post({ type: "written", generation });
    },
    onLapse: ({ generation }) => {
      recorder.lapsed(generation);
      post({ type: "lapsed", generation });
    },
    onError: (error) => post({ type: "error", error: serializeError(error) }),
  });
  return { loop, recorder };
}

scope.onmessage = ({ data: message }) => {
  if (message.type === "init") {
    const now = mainClock(message.mainNow, performance.now());
    started = start(message.data, now);
    started.then(
      () => post({ type: "ready" }),
      (error) => post({ type: "fatal", error: serializeError(error) }),
    );
    return;
  }
  const ready = started ?? Promise.reject(new Error("pulselock: the liveness worker got a message before init"));
  ready.then(
    ({ loop, recorder }) => {
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
    },
    () => message.type === "stop" && post({ type: "stopped" }),
  );
};

post({ type: "booted" });
