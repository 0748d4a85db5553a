/*
 * pulselock on Deno (the "deno" condition of the package root, and the
 * pulselock/deno subpath): the whole core API, composed with the Deno
 * platform (liveness from a Web Worker) and the ioredis adapter (a
 * RedisDatabase that recognises ioredis (npm:ioredis) as well as
 * @upstash/redis clients).
 */
import { Locker as CoreLocker } from "../../src/locker";
import { wrapClientOption, type LockerOptions } from "../../src/options";
import { RedisDatabase } from "../ioredis/redis-database";
import { makeInert } from "../shared/inert-in-liveness-thread";
import { denoPlatform, isLivenessThread } from "./platform";

export * from "../../src/index";
export { RedisDatabase, isLivenessThread, denoPlatform };
export { loadDatabase } from "./load-database";

/*
 * The Locker of Deno: the core Locker on the Web Worker platform. A subclass
 * rather than a registration side effect, so that the package can stay
 * "sideEffects": false.
 */
export class Locker extends CoreLocker {
  constructor(options: LockerOptions) {
    // This entry's RedisDatabase knows ioredis too, so a raw ioredis client given as `database` is wrapped here.
    super(wrapClientOption(options, RedisDatabase), denoPlatform);
    if (isLivenessThread()) makeInert(this);
  }
}
