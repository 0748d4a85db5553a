/*
 * pulselock's runtime-agnostic entry. It imports nothing from Node or from a
 * Redis client library; on Node, Bun and Deno the package's conditional
 * exports hand out an entry whose Locker writes liveness from a thread.
 */
export { Locker } from "./locker";
export { MAX_SEMAPHORE_LIMIT, Semaphore } from "./semaphore";
export type { PermitResult, SemaphoreOptions, SemaphoreRunResult } from "./semaphore";
export type {
  AcquireResult,
  Extend,
  ExtendResult,
  LockerErrorEvent,
  MutexOptions,
  OwnerHashStatusResult,
  ReleaseResult,
  RunOptions,
  RunResult,
} from "./results";
export type { LockerOptions } from "./options";
export type { AcquireOutcome, Instrumentation, RunOutcome, RunSpan } from "./instrumentation";
export { DEFAULTS } from "./defaults";
export { RedisDatabase } from "./database";
export type { DatabaseModule, IoredisClientLike, RedisClientLike, RedisDatabaseOptions } from "./database";
export type { ClientRecipe, Subscriber, Transport } from "./transport";
export type { UpstashClient } from "./upstash-transport";
export { LockStatus, OwnerHashStatus } from "./statuses";
export type { LockData } from "./lock-data";
export { Heartbeater } from "./heartbeater";
export type { Heartbeat } from "./heartbeater";
export type { MultiHeartbeat, MultiRunResult } from "./multi-lock-types";
export {
  CorruptRecordError,
  DrainingSignal,
  LockError,
  MutexError,
  RedisCommandError,
  LivenessError,
  DatabaseLoadError,
  LockerTerminatedError,
  RunEndedError,
  isCorruptRecordError,
  isDrainingSignal,
  isLockError,
  isMutexError,
  isRedisCommandError,
  isLivenessError,
  isDatabaseLoadError,
  isLockerTerminatedError,
  isRunEndedError,
} from "./errors";
