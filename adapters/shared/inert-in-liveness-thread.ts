/*
 * A liveness thread or worker imports the user's database module again, so a
 * Locker created at that module's top level exists there too. Its lock
 * methods must never settle there, so a job started at the top level does not
 * run twice.
 */
import type { Locker } from "../../src/locker";

const never = <T>(): Promise<T> => new Promise<T>(() => {});

const LOCK_METHODS = ["acquireAndRun", "acquire", "mutex", "release", "readLockData", "readOwnerHashStatus"] as const;

export function makeInert(locker: Locker): void {
  for (const method of LOCK_METHODS) Object.defineProperty(locker, method, { value: never });
}
