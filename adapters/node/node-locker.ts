/*
 * The Locker of Node and Bun: the core Locker on the worker-thread platform.
 * A subclass rather than a registration side effect, so that the package can
 * stay "sideEffects": false.
 */
import { Locker as CoreLocker } from "../../src/locker";
import { wrapClientOption, type LockerOptions } from "../../src/options";
import { RedisDatabase } from "./redis-database";
import { makeInert } from "../shared/inert-in-reporter";
import { isReporterThread, nodePlatform } from "./platform";

export class Locker extends CoreLocker {
  constructor(options: LockerOptions) {
    // This entry's RedisDatabase knows ioredis too, so a raw ioredis client given as `database` is wrapped here.
    super(wrapClientOption(options, RedisDatabase), nodePlatform);
    if (isReporterThread()) makeInert(this);
  }
}
