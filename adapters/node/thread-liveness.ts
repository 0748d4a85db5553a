/*
 * Liveness for Node and Bun: the record is written from a worker_threads
 * thread, so a main thread that blocks its event loop for less than the lock
 * TTL keeps its locks. The thread starts lazily (on the first acquire) and is
 * unref'd, so it never keeps the process alive.
 */
import { hostname } from "node:os";
import { Worker } from "node:worker_threads";
import { isDatabase } from "../../src/database";
import { recipeOf } from "../../src/recipe";
import { ReporterError } from "../../src/errors";
import type { Identity, Liveness, LivenessParams } from "../../src/liveness";
import {
  ALL_GENERATIONS,
  type FromReporter,
  type ReporterWorkerData,
  REPORTER_MARK,
  SHARED_SLOTS,
  Slot,
  atomicMax,
  deserializeError,
  hrtimeNs,
} from "./reporter-protocol";

/** How long terminate() waits for the thread to delete the record before it stops the thread anyway. */
const STOP_TIMEOUT_MS = 3000;

export class ThreadLiveness implements Liveness {
  private readonly shared = new SharedArrayBuffer(8 * SHARED_SLOTS);
  private readonly slots = new BigInt64Array(this.shared);
  private readonly source: ReporterWorkerData["source"];
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private readonly firstWrites = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
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
    if (this.terminated) throw new ReporterError("pulselock: the liveness reporter was terminated");
    const worker = await (this.ready ??= this.spawn());
    if (this.terminated) throw new ReporterError("pulselock: the liveness reporter was terminated");
    const written = new Promise<void>((resolve, reject) => this.firstWrites.set(identity.generation, { resolve, reject }));
    worker.postMessage({ type: "identity", processHash: identity.processHash, generation: identity.generation });
    await written;
  }

  retire(generation: number): void {
    atomicMax(this.slots, Slot.LAPSED, Number.isFinite(generation) ? BigInt(generation) : ALL_GENERATIONS);
  }

  lastWriteSentAt(generation: number): number | undefined {
    const g = BigInt(generation);
    const before = Atomics.load(this.slots, Slot.GENERATION);
    const sentAt = Atomics.load(this.slots, Slot.SENT_AT_NS);
    // Re-read: a lapse and a new identity may have landed while reading.
    if (before !== g || Atomics.load(this.slots, Slot.GENERATION) !== g) return undefined;
    if (Atomics.load(this.slots, Slot.LAPSED) >= g) return undefined;
    return Number(sentAt) / 1e6;
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    this.retire(Infinity);
    for (const { reject } of this.firstWrites.values()) reject(new ReporterError("pulselock: the liveness reporter was terminated"));
    this.firstWrites.clear();
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (!worker) return;
    // Held open until the record is deleted: a process that awaits terminate() and then ends must not end first.
    worker.ref();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = new Promise<void>((resolve) => {
      this.stopped = resolve;
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    worker.postMessage({ type: "stop" });
    await stopped;
    clearTimeout(timer);
    await worker.terminate();
  }

  private spawn(): Promise<Worker> {
    const workerData: ReporterWorkerData = {
      [REPORTER_MARK]: true,
      shared: this.shared,
      source: this.source,
      reportWriteMs: this.p.reportWriteMs,
      reportTtlMs: this.p.reportTtlMs,
      data: `${hostname()}:${process.pid}`,
    };
    return new Promise<Worker>((resolve, reject) => {
      // The thread allocates a few objects per write: a 1 MB young generation instead of V8's default
      // (16 MB semi-spaces) keeps its settled RSS about 5 MB lower (bench/memory.mjs) at no visible cost.
      const worker = new Worker(new URL("./reporter-worker.js", import.meta.url), {
        workerData,
        resourceLimits: { maxYoungGenerationSizeMb: 1 },
      });
      this.worker = worker;
      const fail = (error: unknown) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        void worker.terminate();
        reject(error);
      };
      worker.on("message", (message: FromReporter) => {
        switch (message.type) {
          case "ready":
            return resolve(worker);
          case "written":
            this.firstWrites.get(message.generation)?.resolve();
            return void this.firstWrites.delete(message.generation);
          case "lapsed":
            return this.p.onLapse(message.generation);
          case "error":
            return this.p.onError(deserializeError(message.error));
          case "fatal": {
            const cause = deserializeError(message.error);
            const error = new ReporterError(cause instanceof Error ? cause.message : String(cause), { cause });
            this.p.onError(error);
            return fail(error);
          }
          case "stopped":
            return this.stopped?.();
        }
      });
      worker.on("error", (error) => {
        this.p.onError(error);
        fail(new ReporterError(`pulselock: the liveness thread crashed: ${error.message}`, { cause: error }));
      });
      worker.on("exit", (code) => {
        if (this.worker === worker) fail(new ReporterError(`pulselock: the liveness thread exited (code ${code})`));
      });
      // After the listeners: attaching a "message" listener refs the thread's port again.
      worker.unref();
    });
  }
}
