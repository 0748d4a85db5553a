/*
 * The liveness Web Worker of Deno: builds its own Redis client (a worker
 * cannot share the main thread's socket) and writes this process's liveness
 * record every reportWriteMs, untouched by whatever blocks the main thread.
 * Write times go to the main thread through shared memory, on its clock. An
 * entry of its own (dist/deno-liveness-worker.js, spawned by URL next to the
 * Deno entry), so it composes the Deno adapter with the ioredis one, as the
 * Deno entry does.
 */
import { RedisDatabase } from "../ioredis/redis-database";
import { type FromLivenessWorker, serializeError } from "../shared/liveness-protocol";
import { startLivenessSession } from "../shared/liveness-session";
import { loadDatabase } from "./load-database";
import type { ToDenoLivenessWorker } from "./worker-protocol";
import { monotonicNow } from "../../src/timers";

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent<ToDenoLivenessWorker>) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const post = (message: FromLivenessWorker) => scope.postMessage(message);
let session: ReturnType<typeof startLivenessSession> | undefined;

scope.onmessage = ({ data: message }) => {
  if (message.type === "init") {
    session = startLivenessSession(message.data, { loadDatabase, RedisDatabase }, monotonicNow, post);
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
