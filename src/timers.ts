/*
 * Timer helpers that work on every runtime. Background timers are unref'd
 * where the runtime supports it, so they never keep a process alive.
 */

type Timer = ReturnType<typeof setTimeout>;

type Schedule = (fn: () => void) => void;

/*
 * The clock and timers are the runtime's own, taken when pulselock loads. A test that fakes timers afterwards
 * (vi.useFakeTimers(), jest.useFakeTimers()) would otherwise stop them: a frozen clock never extends a lock nor
 * sees its self-fencing deadline pass, faked microtasks never send a batch, while other processes, on real time,
 * take the lock over when it expires: a second owner.
 */
const g = globalThis;
/** setTimeout as it was when pulselock loaded. */
export let setTimer = g.setTimeout.bind(g) as (fn: () => void, ms?: number) => Timer;
/** clearTimeout as it was when pulselock loaded. */
export let clearTimer = g.clearTimeout.bind(g) as (timer: Timer | undefined) => void;
/** queueMicrotask as it was when pulselock loaded. */
export let microtask = g.queueMicrotask.bind(g);
const perf = g.performance;
let perfNow = perf.now.bind(perf);
/** setImmediate as it was when pulselock loaded, where there is one (see runAfterTask). */
let immediateAtLoad = (g as { setImmediate?: (fn: () => void) => unknown }).setImmediate?.bind(g);

/**
 * Whether a clock or timer function is a fake or a mock: @sinonjs/fake-timers, which vitest and jest use, marks
 * what it replaces with `clock`; jest's legacy fakes and its spies are mock functions.
 */
export const isFakeTimer = (value: unknown): boolean =>
  value != null && ((value as { clock?: unknown }).clock !== undefined || (value as { _isMockFunction?: unknown })._isMockFunction === true);

/** Whether any of the clock and timers was a fake or a mock when pulselock loaded: there were no real ones to take. */
export const timersFakedAtLoad = [g.setTimeout, g.clearTimeout, g.queueMicrotask, (g as { setImmediate?: unknown }).setImmediate, perf, perf.now].some(
  isFakeTimer,
);

/**
 * For unit tests of pure logic under fake timers (not exported by any entry): from now on the timers and the clock
 * are whatever the globals are at each call, so that the test's fakes drive them.
 */
export function useGlobalTimers(): void {
  setTimer = (fn, ms) => g.setTimeout(fn, ms);
  clearTimer = (timer) => g.clearTimeout(timer);
  microtask = (fn) => g.queueMicrotask(fn);
  perfNow = () => g.performance.now();
  immediateAtLoad = (fn) => (g as { setImmediate?: (fn: () => void) => unknown }).setImmediate?.(fn);
  afterTask = undefined;
}

/**
 * How to run a callback once the current task is over. Chosen by what works
 * when called, never by a global's mere presence: Next.js's edge sandbox
 * defines a setImmediate that throws ("A Node.js API is used …") when called.
 */
let afterTask: Schedule | undefined;

/** Runs `fn` after the current task: setImmediate where it works (a few µs), else setTimer(fn, 0). */
export function runAfterTask(fn: () => void): void {
  if (afterTask) return afterTask(fn);
  const immediate = immediateAtLoad;
  if (typeof immediate === "function") {
    try {
      immediate(fn);
      afterTask = (f) => void immediate(f);
      return;
    } catch {
      // A stub that throws: fall through to the timer.
    }
  }
  afterTask = (f) => void setTimer(f, 0);
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
  microtask(() => microtask(fn));
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
      clearTimer(timer);
      reject(signal!.reason);
    };
    const timer = setTimer(
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
    const timer = setTimer(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimer(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimer(timer);
        reject(error);
      },
    );
  });
}

/** Monotonic milliseconds; the default clock where the platform gives no better one. */
export function monotonicNow(): number {
  return perfNow();
}

/** A random hex string from the runtime's CSPRNG, so owner and process hashes cannot be guessed. */
export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buf);
  let out = "";
  for (const b of buf) out += b.toString(16).padStart(2, "0");
  return out;
}
