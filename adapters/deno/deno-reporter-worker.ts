/*
 * The liveness Web Worker of Deno: builds its own Redis client (a worker
 * cannot share the main thread's socket) and writes this process's liveness
 * record every reportWriteMs, untouched by whatever blocks the main thread.
 * Write times go to the main thread through shared memory, on its clock.
 */
import { type FromReporter, serializeError } from "../node/reporter-protocol";
import { startReporterSession } from "../shared/reporter-session";
import type { ToDenoReporter } from "./worker-protocol";

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent<ToDenoReporter>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const post = (message: FromReporter) => scope.postMessage(message);
let session: ReturnType<typeof startReporterSession> | undefined;

scope.onmessage = ({ data: message }) => {
  if (message.type === "init") {
    session = startReporterSession(message.data, () => performance.now(), post);
    session.then(
      () => post({ type: "ready" }),
      (error) => post({ type: "fatal", error: serializeError(error) }),
    );
    return;
  }
  (session ?? Promise.reject(new Error("pulselock: the liveness worker got a message before init"))).then(
    (handle) => handle(message),
    () => message.type === "stop" && post({ type: "stopped" }),
  );
};
