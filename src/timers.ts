/*
 * Timer helpers that work on every runtime. Background timers are unref'd
 * where the runtime supports it, so they never keep a process alive.
 */

type Timer = ReturnType<typeof setTimeout>;

type Schedule = (fn: () => void) => void;

/**
 * How to run a callback once the current task is over. Chosen by what works
 * when called, never by a global's mere presence: Next.js's edge sandbox
 * defines a setImmediate that throws ("A Node.js API is used …") when called.
 */
let afterTask: Schedule | undefined;

/** Runs `fn` after the current task: setImmediate where it works (a few µs), else setTimeout(fn, 0). */
export function runAfterTask(fn: () => void): void {
  if (afterTask) return afterTask(fn);
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === "function") {
    try {
      immediate(fn);
      afterTask = (f) => void immediate(f);
      return;
    } catch {
      // A stub that throws: fall through to the timer.
    }
  }
  afterTask = (f) => void setTimeout(f, 0);
  afterTask(fn);
}

/**
 * Runs `fn` after the microtasks already queued, still inside the current
 * task. On runtimes with request contexts (Cloudflare Workers), whatever the
 * current task started belongs to the request that runs it; a later task
 * (a timer, another request's I/O) may belong to another request.
 */
export function runAtEndOfTask(fn: () => void): void {
  // Two hops: calls that reach the batcher one await later than the first one still join it.
  queueMicrotask(() => queueMicrotask(fn));
}

export function unrefTimer(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Sleeps `ms`; rejects with the signal's reason when it aborts first. Keeps the process alive: the caller awaits it. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Rejects with `onTimeout()` when `promise` has not settled within `ms`; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  // One promise and one reaction, not a race and a finally: this bounds every release batch.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Monotonic milliseconds; the default clock where the platform gives no better one. */
export function monotonicNow(): number {
  return performance.now();
}

/** A random hex string from the runtime's CSPRNG, so owner and process hashes cannot be guessed. */
export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buf);
  let out = "";
  for (const b of buf) out += b.toString(16).padStart(2, "0");
  return out;
}
