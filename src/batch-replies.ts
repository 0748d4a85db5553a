import { malformedReply } from "./lock-ops";
import { toRedisCommandError } from "./redis-errors";

/** Redis lost this process's liveness record: no lock of the batch was taken. */
export const LAPSED = "LAPSED" as const;

/** A lock of an acquire batch that is ours now: its fencing token and acquiredAt (ms, as written in the record). */
export interface Taken {
  token: number;
  ms: string;
}

/** One acquire answer: taken, the current value of a held key, or a lapse (an entry may also be that key's own Error). */
export type AcquireReply = Taken | string | typeof LAPSED;

const isToken = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 1;

/** A {-3, error} entry: Redis refused a command on that one key. */
const keyError = (operation: string, r: unknown): Error | undefined =>
  Array.isArray(r) && r[0] === -3 ? toRedisCommandError(operation, new Error(String(r[1]))) : undefined;

/**
 * Splits the ACQUIRE reply ({-2}, or {µs, one entry per lock}; see
 * scripts/acquire.ts) into one answer per lock. A reply of the wrong shape
 * throws; an entry of the wrong shape is that lock's own BAD_RESPONSE.
 */
export function acquireReplies(reply: unknown, count: number): (AcquireReply | Error)[] {
  if (!Array.isArray(reply)) throw malformedReply("acquire", reply);
  if (reply.length === 1 && reply[0] === -2) return new Array<AcquireReply>(count).fill(LAPSED);
  const u = reply[0] as unknown;
  if (reply.length !== count + 1 || !isToken(u)) throw malformedReply("acquire", reply);
  const ms = String(Math.floor(u / 1000));
  const out = new Array<AcquireReply | Error>(count);
  for (let i = 0; i < count; i++) {
    const r = reply[i + 1] as unknown;
    out[i] =
      r === 1 ? { token: u, ms }
      : isToken(r) ? { token: r, ms }
      : typeof r === "string" ? r
      : (keyError("acquire", r) ?? malformedReply("acquire", r));
  }
  return out;
}

/** Splits the RELEASE reply (one entry per lock: 1, -1, the current value, or {-3, error}) into one answer per lock. */
export function releaseReplies(reply: unknown, count: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== count) throw malformedReply("release", reply);
  return reply.map((r: unknown) => keyError("release", r) ?? r);
}
