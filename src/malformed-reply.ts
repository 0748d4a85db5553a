import { RedisCommandError } from "./errors";
import { describe } from "./describe-value";
import { toRedisCommandError } from "./redis-errors";

/** A reply of a shape no pulselock script gives (a proxy's, say): transient, like any garbled answer. */
export function malformedReply(operation: string, reply: unknown): RedisCommandError {
  return new RedisCommandError(operation, "BAD_RESPONSE", true, `a reply of the wrong shape: ${describe(reply)}`);
}

/** A batch script's {-3, error} entry: Redis refused a command on that one key (a foreign value of another type). */
export function keyError(operation: string, entry: unknown): RedisCommandError | undefined {
  return Array.isArray(entry) && entry[0] === -3 ? toRedisCommandError(operation, new Error(String(entry[1]))) : undefined;
}
