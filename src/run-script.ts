import { toRedisCommandError, isNoScript } from "./redis-errors";
import type { LuaScript } from "./scripts/script";
import type { Transport } from "./transport";

/**
 * Runs a script by EVALSHA and falls back to EVAL when Redis has not cached
 * it (a restart, SCRIPT FLUSH, a new cluster node); EVAL also caches it again.
 * Errors come out as RedisCommandError.
 */
export async function runScript(transport: Transport, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await transport.evalsha(script.sha, keys, args);
  } catch (error) {
    if (!isNoScript(error)) throw toRedisCommandError(script.name, error);
  }
  try {
    return await transport.eval(script.source, keys, args);
  } catch (error) {
    throw toRedisCommandError(script.name, error);
  }
}
