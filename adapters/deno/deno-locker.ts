/*
 * The Locker of Deno: the core Locker on the Web Worker platform. A subclass
 * rather than a registration side effect, so that the package can stay
 * "sideEffects": false.
 */
import { Locker as CoreLocker } from "../../src/locker";
import type { LockerOptions } from "../../src/options";
import { makeInert } from "../shared/inert-in-reporter";
import { denoPlatform, isReporterThread } from "./platform";

export class Locker extends CoreLocker {
  constructor(options: LockerOptions) {
    super(options, denoPlatform);
    if (isReporterThread()) makeInert(this);
  }
}
