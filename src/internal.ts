/*
 * pulselock/internal: the plumbing under the public API, for pulselock's own
 * benchmarks, runtime matrix and tests. Unstable: any release may change or
 * remove what is here, so applications should not import it. Runtime-agnostic,
 * like the core it exposes.
 */
export { isDatabase } from "./database";
export type { Identity, Liveness, LivenessParams, Platform } from "./liveness";
export { InThreadLiveness, inThreadPlatform } from "./in-thread-liveness";
export { LivenessLoop } from "./liveness-loop";
export type { LivenessLoopOptions } from "./liveness-loop";
export type { ReleaseWakeups } from "./release-wakeups";
export { ACQUIRE, acquireCall } from "./scripts/acquire";
export { RELEASE, releaseCall } from "./scripts/release";
export { SEMAPHORE_ACQUIRE, semaphoreAcquireCall } from "./scripts/semaphore-acquire";
export { SEMAPHORE_RELEASE, semaphoreReleaseCall } from "./scripts/semaphore-release";
