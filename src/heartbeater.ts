import type { LockData } from "./lock-data";

/**
 * What acquireAndRun() passes to your function. Call it (`await heartbeat()`)
 * or its `.heartbeat()` often: it is free between intervals, extends the lock
 * at most every lockExtendMs, rechecks ownership at most every lockRecheckMs,
 * and throws LockError (or DrainingSignal) when you must stop.
 */
export interface Heartbeat {
  /** One heartbeat: cheap enough to call in every loop iteration, and the point where a lost lock stops the job. */
  (): Promise<void>;
  /** The same as calling the heartbeat itself; the method form keeps @clickup/distributed-locker code working. */
  heartbeat(): Promise<void>;
  /** Sleeps `ms` while heartbeating; rejects as soon as the lock is lost. */
  delay(ms: number): Promise<void>;
  /** Aborts with the LockError or DrainingSignal as its reason; pass it to fetch() and friends. */
  readonly signal: AbortSignal;
  /** The lock's current record (extendedAt moves with each extension). */
  readonly lockData: LockData;
}

/** A run that reacts to the process starting to drain. */
export interface DrainListener {
  drain(reason: string): void;
}

/**
 * Draining is the process's, not one copy of pulselock's: an ESM app whose CommonJS dependency requires pulselock, or
 * jest.isolateModules(), loads two copies, and setDraining() from either must reach the jobs of both. So the state
 * lives on globalThis under a registered symbol, in plain structures every copy (of this layout) understands.
 */
interface DrainState {
  reason: string | null;
  /** The runs to tell when draining starts. */
  listeners: Set<(reason: string) => void>;
}
const DRAIN_STATE = Symbol.for("pulselock.draining.v1");
const drain = ((globalThis as { [DRAIN_STATE]?: DrainState })[DRAIN_STATE] ??= { reason: null, listeners: new Set() });

/** Code written for `@clickup/distributed-locker` names its job's parameter `Heartbeater`: it is the heartbeat acquireAndRun() passes. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- one name for the seed's type and its controls, on purpose
export interface Heartbeater extends Heartbeat {}
/**
 * Process-wide controls of every heartbeat, and (as an interface) the type
 * of the heartbeat that acquireAndRun() passes, under the name that code
 * written for `@clickup/distributed-locker` gives it.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Heartbeater {
  /** Heartbeats come from acquireAndRun() and mutex(); the class only holds process-wide controls. */
  private constructor() {}

  /**
   * Marks this process as draining (e.g. on SIGTERM): every later heartbeat
   * throws DrainingSignal and every running job's signal aborts with it, so
   * jobs stop early and release their locks. `null` ends draining.
   */
  static setDraining(reason: string | null): void {
    if (reason !== null && typeof reason !== "string") {
      throw new TypeError("pulselock: Heartbeater.setDraining() takes a string or null");
    }
    drain.reason = reason;
    if (reason === null) return;
    for (const listener of [...drain.listeners]) {
      try {
        listener(reason);
      } catch {
        // One run's failure to abort must not stop the others.
      }
    }
  }

  /** The reason given to setDraining(), or null when the process is not draining. */
  static get drainingReason(): string | null {
    return drain.reason;
  }

  /** @internal */
  static listen(listener: DrainListener): () => void {
    const entry = (reason: string) => listener.drain(reason);
    drain.listeners.add(entry);
    return () => void drain.listeners.delete(entry);
  }
}
