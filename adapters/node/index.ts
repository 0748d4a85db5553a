/*
 * pulselock on Node and Bun (the "node" and "bun" conditions of the package
 * root, and the pulselock/node subpath): the whole core API, composed with
 * the Node platform (liveness from a worker thread) and the ioredis adapter
 * (a RedisDatabase that recognises ioredis clients as well as Upstash ones).
 */
import { Locker as CoreLocker } from "../../src/locker";
import { wrapClientOption, type LockerOptions } from "../../src/options";
import { RedisDatabase } from "../ioredis/redis-database";
import { makeInert } from "../shared/inert-in-liveness-thread";
import { isLivenessThread, nodePlatform } from "./platform";

export * from "../../src/index";
export { RedisDatabase, isLivenessThread, nodePlatform };
export { loadDatabase } from "./load-database";

/*
 * The Locker of Node and Bun: the core Locker on the worker-thread platform.
 * A subclass rather than a registration side effect, so that the package can
 * stay "sideEffects": false.
 */
export class Locker extends CoreLocker {
  constructor(options: LockerOptions) {
    // This entry's RedisDatabase knows ioredis too, so a raw ioredis client given as `database` is wrapped here.
    super(wrapClientOption(options, RedisDatabase), nodePlatform);
    if (isLivenessThread()) makeInert(this);
  }
}
