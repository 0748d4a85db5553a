/*
 * The Locker of Node and Bun: the core Locker on the worker-thread platform.
 * A subclass rather than a registration side effect, so that the package can
 * stay "sideEffects": false.
 */
import { Locker as CoreLocker } from "../../src/locker";
import type { LockerOptions } from "../../src/options";
import { makeInert } from "../shared/inert-in-reporter";
import { isReporterThread, nodePlatform } from "./platform";

export class Locker extends CoreLocker {
  constructor(options: LockerOptions) {
    super(options, nodePlatform);
    if (isReporterThread()) makeInert(this);
  }
}
