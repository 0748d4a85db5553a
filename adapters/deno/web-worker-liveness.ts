/*
 * Liveness for Deno: the record is written from a Web Worker, so a main
 * thread that blocks its event loop for less than the lock TTL keeps its
 * locks. A Deno Web Worker keeps the process alive for as long as it exists
 * (Web Workers have no unref), so the worker lives only while the Locker
 * holds or acquires something: idle() stops it and deletes the record, and
 * the next acquire starts a new worker under a new identity.
 */
import { isDatabase } from "../../src/database";
import { LivenessError, LockerTerminatedError } from "../../src/errors";
import type { Identity, Liveness, LivenessParams } from "../../src/liveness";
import { FirstWrites, dispatchLivenessMessage } from "../shared/liveness-inbox";
import type { FromLivenessWorker } from "../shared/liveness-protocol";
import { recipeOf } from "../shared/recipe";
import { SharedWriteTimes } from "../shared/shared-write-times";
import { type DenoWorkerData, LIVENESS_WORKER_NAME, type ToDenoLivenessWorker } from "./worker-protocol";
import { clearTimer, monotonicNow, setTimer } from "../../src/timers";

/** How long a stop waits for the worker to delete the record before it ends the worker anyway. */
const STOP_TIMEOUT_MS = 3000;

const terminatedError = () => new LockerTerminatedError();

/** Who writes the record, for people reading Redis; hostname needs --allow-sys, so it is optional. */
function processDescription(): string {
  const deno = (globalThis as unknown as { Deno?: { pid: number; hostname(): string } }).Deno;
  let host = "deno";
  try {
    host = deno?.hostname() ?? host;
  } catch {
    // no --allow-sys: the pid alone will do
  }
  return `${host}:${deno?.pid ?? "?"}`;
}

export class WebWorkerLiveness implements Liveness {
  private readonly times = new SharedWriteTimes();
  private readonly source: DenoWorkerData["source"];
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  /** Fails a spawn still under way: terminate() must fail a start() that waits for it (the thread may never answer). */
  private abortSpawn: ((error: Error) => void) | undefined;
  private readonly firstWrites = new FirstWrites();
  private readonly stopping = new Map<Worker, { finish: () => void; done: Promise<void> }>();
  private terminated = false;

  constructor(private readonly p: LivenessParams) {
    // Decided here, so that a client that cannot be rebuilt in a worker fails in the Locker constructor.
    this.source = isDatabase(p.source) ? { recipe: recipeOf(p.source) } : { reference: p.source };
  }

  now(): number {
    return monotonicNow();
  }

  async start(identity: Identity): Promise<void> {
    if (this.terminated) throw terminatedError();
    const worker = await (this.ready ??= this.spawn());
    if (this.terminated) throw terminatedError();
    const written = this.firstWrites.wait(identity.generation);
    this.send(worker, { type: "identity", processHash: identity.processHash, generation: identity.generation });
    await written;
  }

  retire(generation: number): void {
    this.times.retire(generation);
  }

  lastWriteSentAt(generation: number): number | undefined {
    return this.times.lastWriteSentAt(generation);
  }

  /** Nothing is held: end the worker (it would keep the process alive) and delete the record. */
  idle(): void {
    this.retire(this.times.currentGeneration());
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) void this.stop(worker);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    this.abortSpawn?.(new LockerTerminatedError());
    this.retire(Infinity);
    this.firstWrites.rejectAll(terminatedError);
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) await this.stop(worker);
    // Workers stopped by idle() may still be deleting their records.
    await Promise.all([...this.stopping.keys()].map((w) => this.stop(w)));
  }

  /** Asks the worker to delete its record, then ends it (after STOP_TIMEOUT_MS at the latest). */
  private stop(worker: Worker): Promise<void> {
    const pending = this.stopping.get(worker);
    if (pending) return pending.done;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      const timer = setTimer(() => finish(), STOP_TIMEOUT_MS);
      finish = () => {
        clearTimer(timer);
        worker.terminate();
        this.stopping.delete(worker);
        resolve();
      };
    });
    this.stopping.set(worker, { finish, done });
    this.send(worker, { type: "stop" });
    return done;
  }

  private send(worker: Worker, message: ToDenoLivenessWorker): void {
    worker.postMessage(message);
  }

  private spawn(): Promise<Worker> {
    const data: DenoWorkerData = {
      shared: this.times.buffer,
      source: this.source,
      reportWriteMs: this.p.reportWriteMs,
      reportTtlMs: this.p.reportTtlMs,
      data: processDescription(),
      reportWriteTimes: this.p.onWriteTime !== undefined,
    };
    return new Promise<Worker>((resolve, reject) => {
      this.abortSpawn = reject;
      const worker = new Worker(new URL("./deno-liveness-worker.js", import.meta.url).href, {
        type: "module",
        name: LIVENESS_WORKER_NAME,
      });
      this.worker = worker;
      const fail = (error: unknown) => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        this.stopping.get(worker)?.finish();
        worker.terminate();
        reject(error);
      };
      worker.onmessage = ({ data: message }: MessageEvent<FromLivenessWorker>) => {
        dispatchLivenessMessage(message, {
          params: this.p,
          firstWrites: this.firstWrites,
          ready: () => {
            // Deno gives each worker its own clock: the worker learns the offset to ours before any identity.
            this.send(worker, { type: "clock", mainNow: this.now() });
            resolve(worker);
          },
          fail,
          stopped: () => this.stopping.get(worker)?.finish(),
        });
      };
      worker.onerror = (event: ErrorEvent) => {
        // Unhandled, an error in a worker is rethrown in the main thread and ends the process.
        event.preventDefault();
        const error = event.error instanceof Error ? event.error : new Error(event.message);
        this.p.onError(error);
        fail(new LivenessError(`pulselock: the liveness worker crashed: ${error.message}`, { cause: error }));
      };
      this.send(worker, { type: "init", data });
    });
  }
}
