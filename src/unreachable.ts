/*
 * A first acquire waits for its liveness record's first write. When Redis
 * cannot be reached, that write is only retried, so without this the acquire
 * would wait for reporterWorkerSpawnTimeoutMs and fail with a timeout that
 * hides why. Instead it fails as soon as the client reports the failure.
 */
import { RedisCommandError, isRedisCommandError, messageOf } from "./errors";
import { toRedisCommandError } from "./redis-errors";
import type { Transport } from "./transport";
import { setTimer, clearTimer } from "./timers";

/** Codes after which waiting for a first liveness write is pointless: Redis is out of reach, or cannot replicate the write. */
const UNREACHABLE = new Set([
  "CONNECTION",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "NOREPLICAS",
]);

/** A client's connection failure as the error an acquire fails with: its own code (ECONNREFUSED, WRONGPASS, …) or CONNECTION. */
export function connectionFailure(operation: string, error: unknown): RedisCommandError {
  const e = toRedisCommandError(operation, error);
  if (e.code !== "UNKNOWN" && e.code !== "ERR") return e;
  return new RedisCommandError(operation, "CONNECTION", true, messageOf(error), { cause: error });
}

/**
 * A liveness writer's failure that means Redis is unreachable (or short of
 * replicas), as the acquire's error; undefined for failures worth waiting out
 * (OOM, READONLY, LOADING: a failover or a restart in progress).
 */
function unreachable(error: unknown): RedisCommandError | undefined {
  if (!isRedisCommandError(error) || !UNREACHABLE.has(error.code)) return undefined;
  // A writer in another thread sends a copy whose cause is the client's error: the acquire names that.
  const cause = (error as { cause?: unknown }).cause ?? error;
  return new RedisCommandError("acquire", error.code, error.transient, `the first liveness write failed: ${messageOf(cause)}`, { cause });
}

/**
 * `firstWrite`, or a rejection as soon as Redis is found unreachable: the
 * client reports a failed connection (`transport.watchConnection`), or the
 * liveness writer reports such a failure (`subscribe` delivers its errors);
 * or `timedOut()` after `timeoutMs`. `report` puts a client's failure on
 * `locker.errors` (the writer's are there already). Its timer goes when it
 * settles in any way: after an early failure it would keep the process alive.
 */
export function failWhenUnreachable<T>(
  firstWrite: Promise<T>,
  transport: Transport | undefined,
  subscribe: (onWriterError: (error: unknown) => void) => () => void,
  report: (error: unknown) => void,
  timeoutMs: number,
  timedOut: () => Error,
): Promise<T> {
  let stopWatching = (): void => {};
  let unsubscribe = (): void => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimer(() => reject(timedOut()), timeoutMs);
    unsubscribe = subscribe((error) => {
      const e = unreachable(error);
      if (e) reject(e);
    });
    stopWatching =
      transport?.watchConnection?.((error) => {
        const e = connectionFailure("acquire", error);
        // A transport that hands its client's errors to the Locker (watchErrors) has put this one on locker.errors.
        if (!transport.watchErrors) report(e);
        reject(e);
      }) ?? stopWatching;
  });
  failed.catch(() => {}); // settled by the race below, or never looked at once the write came back
  return Promise.race([firstWrite, failed]).finally(() => {
    clearTimer(timer);
    stopWatching();
    unsubscribe();
  });
}
