import { toRedisCommandError, isNoScript } from "./redis-errors";
import type { LuaScript } from "./scripts/script";
import type { Transport } from "./transport";

/**
 * Runs a script by EVALSHA and falls back to EVAL when Redis has not cached
 * it (a restart, SCRIPT FLUSH, a new cluster node); EVAL also caches it again.
 * Errors come out as RedisCommandError.
 */
export function runScript(transport: Transport, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  // Reactions rather than an async function with awaits: every lock call goes through here.
  const fail = (error: unknown) => {
    throw toRedisCommandError(script.name, error);
  };
  return call(() => transport.evalsha(script.sha, keys, args)).then(undefined, (error: unknown) =>
    isNoScript(error) ? call(() => transport.eval(script.source, keys, args)).then(undefined, fail) : fail(error),
  );
}

/** A transport call that throws synchronously rejects instead. */
function call(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}
