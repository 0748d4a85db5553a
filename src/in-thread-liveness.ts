import type { Database } from "./database";
import { ReporterError } from "./errors";
import type { Identity, Liveness, LivenessParams, Platform } from "./liveness";
import { ReporterLoop } from "./reporter-loop";
import { monotonicNow } from "./timers";

/**
 * Liveness written by timers of the current thread. It is what runtimes
 * without threads have (edge isolates); a main thread that blocks also blocks
 * these writes, which is why Node uses a worker thread instead.
 */
export class InThreadLiveness implements Liveness {
  private loop: ReporterLoop | undefined;
  private written = new Map<number, number>();
  private waiters = new Map<number, () => void>();

  constructor(private readonly p: LivenessParams) {}

  now(): number {
    return monotonicNow();
  }

  async start(identity: Identity): Promise<void> {
    const loop = (this.loop ??= this.createLoop(await this.p.loadDatabase()));
    this.written.clear();
    const first = new Promise<void>((resolve) => this.waiters.set(identity.generation, resolve));
    loop.start(identity);
    await first;
  }

  lastWriteSentAt(generation: number): number | undefined {
    return this.written.get(generation);
  }

  async terminate(): Promise<void> {
    this.written.clear();
    await this.loop?.stop();
    this.loop = undefined;
  }

  private createLoop(db: Database): ReporterLoop {
    return new ReporterLoop(db, {
      reportWriteMs: this.p.reportWriteMs,
      reportTtlMs: this.p.reportTtlMs,
      now: () => this.now(),
      data: "in-thread",
      onWritten: ({ generation }, sentAt) => {
        this.written.set(generation, sentAt);
        this.waiters.get(generation)?.();
        this.waiters.delete(generation);
      },
      onLapse: ({ generation }) => {
        this.written.delete(generation);
        this.p.onLapse(generation);
      },
      onError: this.p.onError,
    });
  }
}

/** The platform of the runtime-agnostic entry: in-thread liveness, and database instances only. */
export const inThreadPlatform: Platform = {
  name: "in-thread",
  createLiveness: (params) => new InThreadLiveness(params),
  loadDatabase: async (reference) => {
    throw new ReporterError(
      `pulselock: this runtime cannot load the database module ${JSON.stringify(reference.moduleName)}; ` +
        "pass a RedisDatabase instance as the database option (or import pulselock on Node, Bun or Deno)",
    );
  },
};
