/*
 * The Locker of Deno: the core Locker on the Web Worker platform. A subclass
 * rather than a registration side effect, so that the package can stay
 * "sideEffects": false.
 */
import { Locker as CoreLocker } from "../../src/locker";
import type { LockerOptions } from "../../src/options";
import { denoPlatform, isReporterThread } from "./platform";

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export class Locker extends CoreLocker {
  constructor(options: LockerOptions) {
    super(options, denoPlatform);
    if (isReporterThread()) {
      // The liveness worker re-imports the user's database module; a job started there must not run twice.
      for (const method of ["acquireAndRun", "acquire", "mutex", "release", "readLockData", "readOwnerHashStatus"] as const) {
        Object.defineProperty(this, method, { value: never });
      }
    }
  }
}
