/*
 * The main thread's side of a liveness thread or Web Worker, whatever the
 * runtime: who waits for an identity's first write, and what each message
 * from the liveness writer means.
 */
import { DatabaseLoadError, LivenessError, isDatabaseLoadError, messageOf } from "../../src/errors";
import type { LivenessParams } from "../../src/liveness";
import { type FromLivenessWorker, deserializeError } from "./liveness-protocol";

/** start() calls waiting for their identity's first successful write. */
export class FirstWrites {
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  wait(generation: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiting.set(generation, { resolve, reject }));
  }

  written(generation: number): void {
    this.waiting.get(generation)?.resolve();
    this.waiting.delete(generation);
  }

  /** The liveness writer gave `generation` up: its start() fails with the reason. */
  refused(generation: number, error: Error): void {
    this.waiting.get(generation)?.reject(error);
    this.waiting.delete(generation);
  }

  rejectAll(error: () => Error): void {
    for (const { reject } of this.waiting.values()) reject(error());
    this.waiting.clear();
  }
}

export interface InboxHandlers {
  params: LivenessParams;
  firstWrites: FirstWrites;
  ready(): void;
  /** The liveness writer cannot go on: end it and reject whoever waits for it. */
  fail(error: Error): void;
  stopped(): void;
}

export function dispatchLivenessMessage(message: FromLivenessWorker, h: InboxHandlers): void {
  switch (message.type) {
    case "ready":
      return h.ready();
    case "written":
      return h.firstWrites.written(message.generation);
    case "lapsed":
      return h.params.onLapse(message.generation);
    case "refused":
      return h.firstWrites.refused(message.generation, deserializeError(message.error) as Error);
    case "error":
      return h.params.onError(deserializeError(message.error));
    case "write-time":
      return h.params.onWriteTime?.(message.ms, message.ok);
    case "fatal": {
      const cause = deserializeError(message.error);
      // A database the thread cannot load stays that error; anything else is the liveness thread's failure.
      const error = isDatabaseLoadError(cause) ? new DatabaseLoadError(messageOf(cause), { cause }) : new LivenessError(messageOf(cause), { cause });
      h.params.onError(error);
      return h.fail(error);
    }
    case "stopped":
      return h.stopped();
  }
}
