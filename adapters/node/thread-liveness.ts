/*
 * Liveness for Node and Bun: the record is written from a worker_threads
 * thread, so a main thread that blocks its event loop for less than the lock
 * TTL keeps its locks. The thread starts lazily (on the first acquire) and is
 * unref'd, so it never keeps the process alive.
 */
import { hostname } from "node:os";
import type { Worker } from "node:worker_threads";
import { isDatabase } from "../../src/database";
import { LivenessError, LockerTerminatedError } from "../../src/errors";
import type { Identity, Liveness, LivenessParams } from "../../src/liveness";
import { FirstWrites, dispatchLivenessMessage } from "../shared/liveness-inbox";
import { type FromLivenessWorker, LIVENESS_MARK, type LivenessWorkerData, type ToLivenessWorker } from "../shared/liveness-protocol";
import { recipeOf } from "../shared/recipe";
import { SharedWriteTimes } from "../shared/shared-write-times";
import { hrtimeNs } from "./hrtime";
import { livenessWorkerFile } from "./liveness-worker-file";
import { startWorker } from "./worker-exec-argv";
import { setTimer, clearTimer } from "../../src/timers";

/** How long terminate() waits for the thread to delete the record before it stops the thread anyway. */
const STOP_TIMEOUT_MS = 3000;

export class ThreadLiveness implements Liveness {
  private readonly times = new SharedWriteTimes();
  private readonly source: LivenessWorkerData["source"];
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  /** Fails a spawn still under way: terminate() must fail a start() that waits for it (the thread may never answer). */
  private abortSpawn: ((error: Error) => void) | undefined;
  private readonly firstWrites = new FirstWrites();
  private stopped: (() => void) | undefined;
  private terminated = false;

  constructor(private readonly p: LivenessParams) {
    // Decided here, so that a client that cannot be rebuilt in a thread fails in the Locker constructor.
    this.source = isDatabase(p.source) ? { recipe: recipeOf(p.source) } : { reference: p.source };
  }

  now(): number {
    return Number(hrtimeNs()) / 1e6;
  }

  async start(identity: Identity): Promise<void> {
    if (this.terminated) throw new LockerTerminatedError();
    const worker = await (this.ready ??= this.spawn());
    if (this.terminated) throw new LockerTerminatedError();
    const written = this.firstWrites.wait(identity.generation);
    worker.postMessage({ type: "identity", processHash: identity.processHash, generation: identity.generation });
    await written;
  }

  retire(generation: number): void {
    this.times.retire(generation);
  }

  lastWriteSentAt(generation: number): number | undefined {
    return this.times.lastWriteSentAt(generation);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    this.abortSpawn?.(new LockerTerminatedError());
    this.retire(Infinity);
    this.firstWrites.rejectAll(() => new LockerTerminatedError());
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (!worker) return;
    // Never written, nothing to delete (Redis unreachable, say): stop at once instead of waiting for a delete that cannot land.
    if (this.times.currentGeneration() === 0) return void (await worker.terminate());
    // Held open until the record is deleted: a process that awaits terminate() and then ends must not end first.
    worker.ref();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = new Promise<void>((resolve) => {
      this.stopped = resolve;
      timer = setTimer(resolve, STOP_TIMEOUT_MS);
    });
    worker.postMessage({ type: "stop" });
    await stopped;
    clearTimer(timer);
    await worker.terminate();
  }

  private spawn(): Promise<Worker> {
    const workerData: LivenessWorkerData = {
      [LIVENESS_MARK]: true,
      shared: this.times.buffer,
      source: this.source,
      reportWriteMs: this.p.reportWriteMs,
      reportTtlMs: this.p.reportTtlMs,
      data: `${hostname()}:${process.pid}`,
      reportWriteTimes: this.p.onWriteTime !== undefined,
    };
    return new Promise<Worker>((resolve, reject) => {
      this.abortSpawn = reject;
      // The thread allocates a few objects per write: a 1 MB young generation instead of V8's default
      // (16 MB semi-spaces) keeps its settled RSS about 5 MB lower (bench/memory.mjs) at no visible cost.
      // With the main program's loaders (tsx), so that the thread can load the database module the main thread loaded.
      const worker = startWorker(livenessWorkerFile(), { workerData, resourceLimits: { maxYoungGenerationSizeMb: 1 } });
      this.worker = worker;
      const fail = (error: unknown) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        void worker.terminate();
        reject(error);
      };
      worker.on("message", (message: FromLivenessWorker) =>
        dispatchLivenessMessage(message, {
          params: this.p,
          firstWrites: this.firstWrites,
          ready: () => {
            // Before any identity: the thread's clock may not be ours (Bun), so it learns the offset first.
            worker.postMessage({ type: "clock", mainNow: this.now() } satisfies ToLivenessWorker);
            resolve(worker);
          },
          fail,
          stopped: () => this.stopped?.(),
        }),
      );
      worker.on("error", (error) => {
        this.p.onError(error);
        fail(new LivenessError(`pulselock: the liveness thread crashed: ${error.message}`, { cause: error }));
      });
      worker.on("exit", (code) => {
        if (this.worker === worker) fail(new LivenessError(`pulselock: the liveness thread exited (code ${code})`));
      });
      // After the listeners: attaching a "message" listener refs the thread's port again.
      worker.unref();
    });
  }
}
