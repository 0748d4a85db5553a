import { TOMBSTONE } from "../lock-record";
import { malformedReply } from "../malformed-reply";
import { compactLua, type LuaScript } from "./script";

/**
 * Reads a lock or liveness record. A script rather than a GET so that every
 * transport needs only EVALSHA/EVAL, and the client's key prefix applies the
 * same way as for the other scripts.
 *
 * KEYS[1] the key; no ARGV. Returns its value or nil.
 */
export const READ: LuaScript = {
  name: "read",
  source: compactLua(`-- A GET inside a script: every transport then needs only EVALSHA/EVAL, and a client's key prefix applies.
return redis.call('GET', KEYS[1])`),
  sha: "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f",
};

/**
 * The READ reply: a string or null, anything else is malformed. A release's
 * tombstone reads as null: it holds no lock.
 */
export function decodeReadReply(reply: unknown): string | null {
  if (reply !== null && typeof reply !== "string") throw malformedReply(READ.name, reply);
  return reply !== null && TOMBSTONE.test(reply) ? null : reply;
}
