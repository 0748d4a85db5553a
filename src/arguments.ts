/*
 * How a bad argument or option is refused. Its own module, so that the
 * database and the Locker's options can both use it without importing each other.
 */
import { describe } from "./describe-value";

/** The largest delay a JavaScript timer can wait (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** The TypeError of a bad argument or option: what it must be, and the value given. */
export function badArgument(mustBe: string, value: unknown): TypeError {
  return new TypeError(`pulselock: ${mustBe}, got ${describe(value)}`);
}

/** Durations go to Redis as PX, which takes whole milliseconds only. */
export function positiveMs(name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) <= 0 || (value as number) > MAX_TIMER_MS) {
    throw badArgument(`option ${name} must be a whole number of milliseconds in [1, ${MAX_TIMER_MS}]`, value);
  }
  return value as number;
}
