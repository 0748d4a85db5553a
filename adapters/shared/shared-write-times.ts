/*
 * The last liveness write time, shared between the main thread and the
 * thread or Web Worker that writes liveness, through a SharedArrayBuffer: the
 * main thread reads it synchronously, so it is current even right after the
 * main thread was blocked (messages would still be queued). Runtime-neutral:
 * Atomics only. The layout is ./liveness-protocol's.
 */
import { ALL_GENERATIONS, SHARED_SLOTS, Slot, atomicMax } from "./liveness-protocol";

/** The main thread's view: read write times, retire generations. */
export class SharedWriteTimes {
  readonly buffer = new SharedArrayBuffer(8 * SHARED_SLOTS);
  private readonly slots = new BigInt64Array(this.buffer);

  /** Retires `generation` and every earlier one; Infinity retires all. */
  retire(generation: number): void {
    atomicMax(this.slots, Slot.LAPSED, Number.isFinite(generation) ? BigInt(generation) : ALL_GENERATIONS);
  }

  /** The generation whose writes the buffer holds now (0 before the first write). */
  currentGeneration(): number {
    return Number(Atomics.load(this.slots, Slot.GENERATION));
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
}

/** The writer's side, over the same buffer. */
export class SharedWriteRecorder {
  private readonly slots: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new BigInt64Array(buffer);
  }

  /** Before a new identity's first write: whatever was written before belongs to an identity that is over. */
  beginIdentity(generation: number): void {
    atomicMax(this.slots, Slot.LAPSED, BigInt(generation - 1));
  }

  /** Records a successful write; true when it is the generation's first. Write order: SENT_AT before GENERATION. */
  written(generation: number, sentAtMs: number): boolean {
    const first = Atomics.load(this.slots, Slot.GENERATION) !== BigInt(generation);
    Atomics.store(this.slots, Slot.SENT_AT_NS, BigInt(Math.round(sentAtMs * 1e6)));
    if (first) Atomics.store(this.slots, Slot.GENERATION, BigInt(generation));
    return first;
  }

  lapsed(generation: number): void {
    atomicMax(this.slots, Slot.LAPSED, BigInt(generation));
  }
}
