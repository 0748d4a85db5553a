import type { Identity } from "./liveness";
import { isUnsent, type Unsent } from "./process-identity";
import { LockStatus } from "./statuses";

/**
 * The first attempt under a new identity goes out behind that identity's first liveness write, in one callback (one
 * HTTP request on an HTTP transport): on a single Redis the acquiring script checks that record in the same atomic
 * step, after the write, so nothing is taken without it. The attempt counts once the write succeeded; one that failed
 * or found no record ("LAPSED") is made again after it, as it would have been sent then. What was taken although the
 * write failed (it cannot be) is freed by `undo`. Used by a lock's, a set's and a permit's acquisition alike.
 *
 * Any other identity (known, or being written) gets the attempt as it is.
 *
 * @param next what ProcessIdentity.live(withCall) gave.
 * @param attempt one attempt; `before`, when given, sends the first write ahead of the attempt's call (a Batcher hook).
 */
export function withFirstWrite<A extends { status: string }>(
  next: Identity | Promise<Identity> | Unsent,
  attempt: (before?: () => void) => Promise<A>,
  undo: (taken: Extract<A, { status: LockStatus.SUCCESS }>) => Promise<void>,
): Promise<A> {
  // Not async itself: the common case (an identity that is known) costs no promise of its own on every acquire.
  return isUnsent(next) ? firstAttempt(next, attempt, undo) : attempt();
}

async function firstAttempt<A extends { status: string }>(
  next: Unsent,
  attempt: (before?: () => void) => Promise<A>,
  undo: (taken: Extract<A, { status: LockStatus.SUCCESS }>) => Promise<void>,
): Promise<A> {
  const { send, written } = next;
  let res: A | undefined;
  try {
    res = await attempt(send);
  } catch {
    res = undefined; // the attempt freed what it may have taken; it is made again once the record is written
  } finally {
    send();
  }
  try {
    await written;
  } catch (error) {
    if (res?.status === LockStatus.SUCCESS) await undo(res as Extract<A, { status: LockStatus.SUCCESS }>);
    throw error;
  }
  return res && res.status !== "LAPSED" ? res : attempt();
}

/** The identity an attempt runs under, from what ProcessIdentity.live(withCall) gave; not awaited when known. */
export function identityOf(next: Identity | Promise<Identity> | Unsent): Identity | Promise<Identity> {
  return isUnsent(next) ? next.identity : next;
}
