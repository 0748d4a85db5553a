/*
 * pulselock on Node and Bun (the "node" and "bun" conditions of the package
 * root, and the pulselock/node subpath): the whole core API, composed with
 * the Node platform (liveness from a worker thread) and the ioredis adapter
 * (a RedisDatabase that recognises ioredis clients as well as Upstash ones).
 */
import type { Instrumentation } from "../../src/instrumentation";
import { Locker as CoreLocker } from "../../src/locker";
import { wrapClientOption, type LockerOptions } from "../../src/options";
import { RedisDatabase } from "../ioredis/redis-database";
import { createOpenTelemetry, type OpenTelemetryApi } from "../opentelemetry/instrumentation";
import { makeInert } from "../shared/inert-in-liveness-thread";
import { requireOptional } from "./optional-package";
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
    super(wrapClientOption(withDefaultInstrumentation(options), RedisDatabase), nodePlatform);
    if (isLivenessThread()) makeInert(this);
  }
}

/** undefined: not looked for yet; null: @opentelemetry/api is not installed. One instance serves every Locker. */
let automatic: Instrumentation | null | undefined;

/**
 * Left out, `instrumentation` is OpenTelemetry when @opentelemetry/api is installed (looked for once, at the
 * first Locker): the metrics and spans appear as soon as the application registers an SDK, and cost next to
 * nothing until then. Not in the liveness thread, which runs no jobs.
 */
function withDefaultInstrumentation(options: LockerOptions): LockerOptions {
  if (typeof options !== "object" || options === null || options.instrumentation !== undefined || isLivenessThread()) return options;
  automatic ??= openTelemetryIfInstalled();
  return automatic ? { ...options, instrumentation: automatic } : options;
}

function openTelemetryIfInstalled(): Instrumentation | null {
  // Spelt so that no bundler takes it for a dependency to bundle.
  const api = requireOptional(["@opentelemetry", "api"].join("/")) as OpenTelemetryApi | undefined;
  return api ? createOpenTelemetry(api) : null;
}
