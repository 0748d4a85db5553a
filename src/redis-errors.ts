import { RedisCommandError } from "./errors";

/** Redis error codes after which the same command may succeed later (failover, loading, a busy script, memory freed). */
const TRANSIENT_CODES = new Set([
  "READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "BUSY", "OOM", "NOREPLICAS", "UNAVAILABLE", "MISCONF",
]);
const KNOWN_CODES = new Set([...TRANSIENT_CODES, "WRONGTYPE", "NOSCRIPT", "NOPERM", "NOAUTH", "WRONGPASS", "ERR"]);
/** Socket-level failures: the command may not have reached Redis; a retry may succeed. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH",
]);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The Redis error code of a reply error: its first word, or, in the older
 * "ERR Error running script … @user_script:N: CODE …" form, the code of the
 * redis.call() that failed inside the script. Socket errors give their errno code.
 */
export function redisErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) return code;
  // @upstash/redis wraps inline pipeline errors as "Command failed: <error>" or "Command 0 [ evalsha … ] failed: <error>";
  // ioredis gives up on a cluster mid-failover with "Too many Cluster redirections. Last error: <error>".
  const raw = messageOf(error);
  const message = raw
    .replace(/^Command (?:\d+ \[[\s\S]*?\] )?failed: /, "")
    .replace(/^Too many Cluster redirections\. Last error: (?:\w*Error: )?/, "");
  if (message !== raw && /^(MOVED|ASK)\b/.test(message)) return "CLUSTERDOWN"; // slots still moving: retry later
  const first = /^([A-Z]+)\b/.exec(message)?.[1];
  if (first === "ERR") {
    for (const m of message.matchAll(/@user_script:?\s*\d+:\s*-?([A-Z]+)\b/g)) {
      if (KNOWN_CODES.has(m[1]!)) return m[1];
    }
  }
  return first;
}

export function isNoScript(error: unknown): boolean {
  return redisErrorCode(error) === "NOSCRIPT";
}

function isConnectionError(error: unknown, code: string | undefined): boolean {
  if (code && CONNECTION_CODES.has(code)) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "MaxRetriesPerRequestError" || name === "AbortError" || name === "TimeoutError") return true;
  return /connection is closed|connection closed|stream isn't writeable|socket closed|fetch failed|timed out|too many cluster redirections/i.test(
    messageOf(error),
  );
}

/** The name of the error an HTTP transport throws for a reply body that is not its protocol's. */
export const MALFORMED_REPLY = "MalformedReplyError";

/**
 * What an HTTP transport's failure was, from @upstash/redis's error (it keeps
 * the response body, not the status): [code, transient], or undefined when
 * the error is a Redis reply error passed through.
 */
function httpFailure(error: unknown): [string, boolean] | undefined {
  const name = String((error as { name?: unknown } | null)?.name ?? "");
  // An HTML error page from a proxy, say, or well-formed JSON that is not a protocol reply.
  if (name === "UpstashJSONParseError" || name === MALFORMED_REPLY) return ["BAD_RESPONSE", true];
  if (!name.startsWith("Upstash")) return undefined;
  const message = messageOf(error);
  if (/\bunauthori[sz]ed\b|invalid token|\b401\b/i.test(message)) return ["UNAUTHORIZED", false];
  if (/too many requests|rate.?limit|limit exceeded|\b429\b/i.test(message)) return ["RATE_LIMITED", true];
  // A proxy in front of a Redis that is down or restarting (upstash-dev says "Redis unavailable: …" with a 502).
  if (/\b5\d\d\b|internal server error|bad gateway|unavailable|gateway timeout/i.test(message)) {
    return ["SERVER_ERROR", true];
  }
  return undefined;
}

/** Wraps whatever a client threw into a RedisCommandError that says what happened and whether to retry. */
export function toRedisCommandError(operation: string, error: unknown): RedisCommandError {
  if ((error as { name?: unknown } | null)?.name === "RedisCommandError") return error as RedisCommandError;
  const http = httpFailure(error);
  if (http) return new RedisCommandError(operation, http[0], http[1], messageOf(error), { cause: error });
  const code = redisErrorCode(error);
  const connection = isConnectionError(error, code);
  const transient = connection || (code !== undefined && TRANSIENT_CODES.has(code));
  return new RedisCommandError(
    operation,
    connection && !code ? "CONNECTION" : (code ?? "UNKNOWN"),
    transient,
    messageOf(error),
    { cause: error },
  );
}
