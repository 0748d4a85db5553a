import { RedisCommandError, isLockerTerminatedError, isRedisCommandError, messageOf } from "./errors";

/**
 * The error codes pulselock knows. 1: Redis's, and the same command may
 * succeed later (a failover, loading, a busy script, memory freed); 0: Redis's,
 * and it needs a fix; 2: a socket-level errno code, after which the command
 * may not have reached Redis, so a retry may succeed.
 */
const CODES: Record<string, 0 | 1 | 2 | undefined> = {
  READONLY: 1,
  LOADING: 1,
  MASTERDOWN: 1,
  TRYAGAIN: 1,
  CLUSTERDOWN: 1,
  BUSY: 1,
  OOM: 1,
  NOREPLICAS: 1,
  UNAVAILABLE: 1,
  MISCONF: 1,
  WRONGTYPE: 0,
  NOSCRIPT: 0,
  NOPERM: 0,
  NOAUTH: 0,
  WRONGPASS: 0,
  ERR: 0,
  ECONNREFUSED: 2,
  ECONNRESET: 2,
  ETIMEDOUT: 2,
  EPIPE: 2,
  ENOTFOUND: 2,
  EAI_AGAIN: 2,
  EHOSTUNREACH: 2,
  ENETUNREACH: 2,
};

/**
 * What the server said, without the request that @upstash/redis appends to an HTTP error
 * ("<body.error>, command was: <the command as JSON>"): that part holds keys, traces and prefixes,
 * which must not decide how an error is classified.
 */
function serverSaid(error: unknown): string {
  return messageOf(error).replace(/, command was: [\s\S]*$/, "");
}

/**
 * The Redis error code of a reply error: its first word, or, in the older
 * "ERR Error running script … @user_script:N: CODE …" form, the code of the
 * redis.call() that failed inside the script. Socket errors give their errno code.
 */
export function redisErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code as string;
  if (CODES[code] === 2) return code;
  // @upstash/redis wraps inline pipeline errors as "Command failed: <error>" or "Command 0 [ evalsha … ] failed: <error>";
  // ioredis gives up on a cluster mid-failover with "Too many Cluster redirections. Last error: <error>".
  const raw = serverSaid(error);
  const message = raw.replace(/^Command (?:\d+ \[[\s\S]*?\] )?failed: /, "").replace(/^Too many Cluster redirections\. Last error: (?:\w*Error: )?/, "");
  if (message !== raw && /^(MOVED|ASK)\b/.test(message)) return "CLUSTERDOWN"; // slots still moving: retry later
  const first = /^([A-Z]+)\b/.exec(message)?.[1];
  if (first === "ERR") {
    for (const m of message.matchAll(/@user_script:?\s*\d+:\s*-?([A-Z]+)\b/g)) {
      if (CODES[m[1]!] !== undefined) return m[1];
    }
  }
  return first;
}

export function isNoScript(error: unknown): boolean {
  return redisErrorCode(error) === "NOSCRIPT";
}

/** The name of the error an HTTP transport throws for a reply body that is not its protocol's. */
export const MALFORMED_REPLY = "MalformedReplyError";

/** Commands whose arguments hold credentials (AUTH password, HELLO … AUTH user password). */
const CREDENTIAL_COMMANDS = /^(auth|hello)$/i;

/**
 * ioredis attaches the failed command to its reply errors, arguments and all:
 * for a refused AUTH that is the password. The error becomes the cause of
 * ours, which users log, so its arguments are masked in place.
 */
function maskCredentials(error: unknown): void {
  const command = (error as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (command && CREDENTIAL_COMMANDS.test(String(command.name)) && Array.isArray(command.args)) {
    command.args = command.args.map(() => "***");
  }
}

/** Wraps whatever a client threw into a RedisCommandError that says what happened and whether to retry. */
export function toRedisCommandError(operation: string, error: unknown): RedisCommandError {
  maskCredentials(error);
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "RedisCommandError") return error as RedisCommandError;
  const message = messageOf(error);
  const said = serverSaid(error);
  const fail = (code: string, transient: boolean, text = message) => new RedisCommandError(operation, code, transient, text, { cause: error });
  // HTTP failures, from @upstash/redis's errors (they keep the response body, not the status).
  // An HTML error page from a proxy, say, or well-formed JSON that is not a protocol reply:
  if (name === "UpstashJSONParseError" || name === MALFORMED_REPLY) return fail("BAD_RESPONSE", true);
  if (String(name).startsWith("Upstash")) {
    // An HTTP error whose JSON body has no "error" field: not the protocol's answer, and its status is lost.
    if (message.startsWith("undefined, command was: ")) return fail("BAD_RESPONSE", true, "an HTTP error status without an error message");
    if (/\bunauthori[sz]ed\b|invalid token|\b401\b/i.test(said)) return fail("UNAUTHORIZED", false);
    if (/too many requests|rate.?limit|limit exceeded|\b429\b/i.test(said)) return fail("RATE_LIMITED", true);
    // A proxy in front of a Redis that is down or restarting (upstash-dev says "Redis unavailable: …" with a 502).
    if (/\b5\d\d\b|internal server error|bad gateway|unavailable|gateway timeout/i.test(said)) return fail("SERVER_ERROR", true);
    // Otherwise a Redis reply error passed through.
  }
  const code = redisErrorCode(error);
  const known = CODES[code!];
  const connection =
    known === 2 ||
    /^(MaxRetriesPerRequest|Abort|Timeout)Error$/.test(String(name)) ||
    /connection (is )?closed|stream isn't writeable|socket closed|fetch failed|timed out|too many cluster redirections/i.test(said);
  return fail(code ?? (connection ? "CONNECTION" : "UNKNOWN"), connection || known === 1);
}

/**
 * Codes of failures after which a command may have reached Redis and run, although no reply says so: a reply
 * that could not be read, a timeout, a connection lost mid-request, a proxy's 5xx. Not a refusal (a Redis error,
 * 401, 429) and not a connection that never opened.
 */
const MAY_HAVE_RUN = new Set(["BAD_RESPONSE", "TIMEOUT", "CONNECTION", "UNKNOWN", "SERVER_ERROR", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

export function mayHaveRun(error: unknown): boolean {
  return isRedisCommandError(error) && MAY_HAVE_RUN.has(error.code);
}

/**
 * After an acquisition's script call failed: frees what the script may have written (`cleanUp`, a compare-and-delete
 * on our own seq, harmless if it wrote nothing) when it may have run. Awaited, so that a caller that retries at once
 * finds it done; but not when terminate() cut the wait short (LockerTerminatedError): the script may still run on a
 * connection that may never answer, so the release goes out behind it and nobody waits for it.
 */
export async function freeWhatMayHaveRun(error: unknown, cleanUp: () => Promise<unknown>): Promise<void> {
  if (isLockerTerminatedError(error)) void cleanUp().catch(() => {});
  else if (mayHaveRun(error)) await cleanUp();
}
