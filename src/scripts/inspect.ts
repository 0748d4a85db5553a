import { malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
import { compactLua, type LuaScript } from "./script";

/**
 * Reads many locks at once for `pulselock inspect` (cli/): per lock its
 * value, its PTTL and whether its wait flag exists. One script call per batch
 * on a single Redis or Upstash, where three commands per lock cost the client
 * far more than Redis (100,000 locks: seconds of client CPU against a tenth of
 * that). Not on a cluster, where a batch spans slots: there the CLI pipelines
 * plain reads. Reads only.
 *
 * KEYS: per lock its key and its wait flag; no ARGV. Returns, flat, per lock:
 * the value (false: none, or a value of another type), its PTTL, 1 or 0.
 */
export const INSPECT: LuaScript = {
  name: "inspect",
  source: compactLua(`local replies = {}
for i = 1, #KEYS / 2 do
  local lockKey = KEYS[2 * i - 1]
  local flagKey = KEYS[2 * i]
  -- A value of another type (WRONGTYPE) reads as false: it is no lock, and the other locks still count.
  local value = redis.pcall('GET', lockKey)
  if type(value) ~= 'string' then value = false end
  replies[3 * i - 2] = value
  replies[3 * i - 1] = redis.call('PTTL', lockKey)
  replies[3 * i] = redis.call('EXISTS', flagKey)
end
return replies`),
  sha: "7fa6864a19bcbbe442a79fa178695feed7b9bce0",
};

/** KEYS for the locks at `redisKeys`. */
export function inspectKeys(redisKeys: readonly string[]): string[] {
  return redisKeys.flatMap((key) => [key, waitFlagKey(key)]);
}

/** Per lock: its value (null when none, or not a string), its PTTL, whether a waiter flagged it. */
export function decodeInspectReply(reply: unknown, count: number): { value: string | null; pttl: number; flagged: boolean }[] {
  if (!Array.isArray(reply) || reply.length !== 3 * count) throw malformedReply(INSPECT.name, reply);
  return Array.from({ length: count }, (_, i) => {
    const [value, pttl, flag] = reply.slice(3 * i, 3 * i + 3) as unknown[];
    if ((value !== null && typeof value !== "string") || typeof pttl !== "number") throw malformedReply(INSPECT.name, reply);
    return { value: value as string | null, pttl, flagged: flag === 1 };
  });
}
