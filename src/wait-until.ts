import type { WaitUntil } from "./results";

const noop = (): void => {};

/**
 * Starts `work` under a call's waitUntil (a run, a wait). waitUntil is handed the work before it starts, so that a
 * waitUntil that throws fails the call with nothing started: no job or wait goes on with nobody watching it. The work
 * still starts at once, in the caller's task; its failure is the caller's to handle, not waitUntil's.
 */
export function underWaitUntil<T>(waitUntil: WaitUntil | undefined, work: () => Promise<T>): Promise<T> {
  if (!waitUntil) return work();
  let hand!: (started: Promise<T>) => void;
  waitUntil(new Promise<T>((resolve) => (hand = resolve)).catch(noop));
  const started = work();
  hand(started);
  return started;
}
