import { describe, expect, it } from "vitest";
import { isRedisCommandError, RedisCommandError } from "../../src/errors";
import { isNoScript, redisErrorCode, toRedisCommandError } from "../../src/redis-errors";

/** What ioredis throws for an error reply: a ReplyError, whose message is the reply without the "-". */
class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplyError";
  }
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SCRIPT_SHA = "43a882ac5d5a5f3024924c73c5a5f7acb68c5570";

describe("redisErrorCode / toRedisCommandError on Redis reply errors", () => {
  const table: Array<{ message: string; code: string; transient: boolean }> = [
    { message: WRONGTYPE, code: "WRONGTYPE", transient: false },
    { message: "NOSCRIPT No matching script. Please use EVAL.", code: "NOSCRIPT", transient: false },
    { message: "READONLY You can't write against a read only replica.", code: "READONLY", transient: true },
    { message: "LOADING Redis is loading the dataset in memory", code: "LOADING", transient: true },
    {
      message: "OOM command not allowed when used memory > 'maxmemory'.",
      code: "OOM",
      transient: true,
    },
    { message: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", code: "MASTERDOWN", transient: true },
    { message: "TRYAGAIN Multiple keys request during rehashing of slot", code: "TRYAGAIN", transient: true },
    { message: "CLUSTERDOWN The cluster is down", code: "CLUSTERDOWN", transient: true },
    { message: "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", code: "BUSY", transient: true },
    { message: "NOPERM this user has no permissions to run the 'evalsha' command", code: "NOPERM", transient: false },
    { message: "NOAUTH Authentication required.", code: "NOAUTH", transient: false },
    { message: "WRONGPASS invalid username-password pair or user is disabled.", code: "WRONGPASS", transient: false },
    { message: "ERR wrong number of arguments for 'evalsha' command", code: "ERR", transient: false },
    { message: "CROSSSLOT Keys in request don't hash to the same slot", code: "CROSSSLOT", transient: false },
    // Older Redis wraps an error raised by redis.call() inside a script.
    {
      message: `ERR Error running script (call to f_${SCRIPT_SHA}): @user_script:1: ${WRONGTYPE}`,
      code: "WRONGTYPE",
      transient: false,
    },
    {
      message: `ERR Error running script (call to f_${SCRIPT_SHA}): @user_script:12: @user_script: 12: -OOM command not allowed when used memory > 'maxmemory'.`,
      code: "OOM",
      transient: true,
    },
    {
      message: `ERR Error running script (call to f_${SCRIPT_SHA}): @user_script:3: -READONLY You can't write against a read only replica.`,
      code: "READONLY",
      transient: true,
    },
    // Redis 7 keeps the code in front and names the script after it.
    {
      message: `WRONGTYPE Operation against a key holding the wrong kind of value script: ${SCRIPT_SHA}, on @user_script:1.`,
      code: "WRONGTYPE",
      transient: false,
    },
    {
      message: `OOM command not allowed when used memory > 'maxmemory'. script: ${SCRIPT_SHA}, on @user_script:14.`,
      code: "OOM",
      transient: true,
    },
  ];

  for (const { message, code, transient } of table) {
    it(`${message.slice(0, 60)} → ${code}, ${transient ? "transient" : "not transient"}`, () => {
      const error = new ReplyError(message);
      expect(redisErrorCode(error)).toBe(code);
      const wrapped = toRedisCommandError("acquire", error);
      expect(wrapped).toBeInstanceOf(RedisCommandError);
      expect(isRedisCommandError(wrapped)).toBe(true);
      expect(wrapped.code).toBe(code);
      expect(wrapped.transient).toBe(transient);
      expect(wrapped.operation).toBe("acquire");
      expect(wrapped.cause).toBe(error);
      expect(wrapped.message).toContain("acquire");
      expect(wrapped.message).toContain(message);
    });
  }
});

describe("connection errors", () => {
  it("an errno code is the code, and transient", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]) {
      const error = withCode(`connect ${code} 127.0.0.1:6379`, code);
      expect(redisErrorCode(error)).toBe(code);
      const wrapped = toRedisCommandError("extend", error);
      expect(wrapped.code).toBe(code);
      expect(wrapped.transient).toBe(true);
      expect(wrapped.cause).toBe(error);
    }
  });

  it('"Connection is closed." is CONNECTION and transient', () => {
    const wrapped = toRedisCommandError("release", new Error("Connection is closed."));
    expect(wrapped.code).toBe("CONNECTION");
    expect(wrapped.transient).toBe(true);
  });

  it("MaxRetriesPerRequestError is CONNECTION and transient", () => {
    const error = new Error('Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.');
    error.name = "MaxRetriesPerRequestError";
    const wrapped = toRedisCommandError("report", error);
    expect(wrapped.code).toBe("CONNECTION");
    expect(wrapped.transient).toBe(true);
  });

  it("other socket-level messages and abort/timeout errors are transient", () => {
    for (const error of [
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new TypeError("fetch failed"),
      new Error("Command timed out"),
      Object.assign(new Error("The operation was aborted"), { name: "AbortError" }),
      Object.assign(new Error("The operation timed out."), { name: "TimeoutError" }),
    ]) {
      const wrapped = toRedisCommandError("read", error);
      expect(wrapped.transient, error.message).toBe(true);
      expect(wrapped.code, error.message).toBe("CONNECTION");
    }
  });

  it("an unknown, non-connection error is UNKNOWN and not transient", () => {
    const wrapped = toRedisCommandError("read", new Error("something odd happened"));
    expect(wrapped.code).toBe("UNKNOWN");
    expect(wrapped.transient).toBe(false);
    const fromString = toRedisCommandError("read", "plain string thrown");
    expect(fromString.code).toBe("UNKNOWN");
    expect(fromString.transient).toBe(false);
    expect(fromString.message).toContain("plain string thrown");
  });

  it("handles null and undefined thrown values", () => {
    expect(() => redisErrorCode(null)).not.toThrow();
    expect(() => redisErrorCode(undefined)).not.toThrow();
    expect(toRedisCommandError("read", null).transient).toBe(false);
    expect(toRedisCommandError("read", undefined).transient).toBe(false);
  });

  it("passes a RedisCommandError through unchanged", () => {
    const original = new RedisCommandError("acquire", "OOM", true, "OOM …");
    expect(toRedisCommandError("release", original)).toBe(original);
  });
});

describe("isNoScript", () => {
  it("is true for NOSCRIPT, plain or wrapped", () => {
    expect(isNoScript(new ReplyError("NOSCRIPT No matching script. Please use EVAL."))).toBe(true);
    expect(isNoScript(new Error("NOSCRIPT No matching script"))).toBe(true);
  });

  it("is false for every other error", () => {
    for (const e of [
      new ReplyError(WRONGTYPE),
      new ReplyError("ERR unknown command 'evalsha'"),
      new ReplyError("READONLY You can't write against a read only replica."),
      withCode("connect ECONNREFUSED 127.0.0.1:6379", "ECONNREFUSED"),
      new Error("Connection is closed."),
      { message: "x" },
      null,
      undefined,
      "NOSCRIPTS",
    ]) {
      expect(isNoScript(e), String(e)).toBe(false);
    }
  });
});

describe("errors as @upstash/redis words them", () => {
  it("finds the Redis code behind the SDK's pipeline prefix", () => {
    expect(redisErrorCode(new Error("Command failed: NOSCRIPT No matching script. Please use EVAL."))).toBe("NOSCRIPT");
    expect(isNoScript(new Error('Command 0 [ evalsha, "abc" ] failed: NOSCRIPT No matching script.'))).toBe(true);
    expect(redisErrorCode(new Error("Command failed: WRONGTYPE Operation against a key"))).toBe("WRONGTYPE");
  });
});

describe("errors of an ioredis cluster in the middle of a failover", () => {
  it("treats running out of redirections as transient, and still sees a NOSCRIPT behind it", () => {
    const moved = toRedisCommandError("recheck", new Error("Too many Cluster redirections. Last error: ReplyError: MOVED 2253 127.0.0.1:41849"));
    expect(moved.transient).toBe(true);
    expect(moved.code).toBe("CLUSTERDOWN");
    const closed = toRedisCommandError("extend", new Error("Too many Cluster redirections. Last error: Error: Connection is closed."));
    expect(closed.transient).toBe(true);
    expect(isNoScript(new Error("Too many Cluster redirections. Last error: ReplyError: NOSCRIPT No matching script."))).toBe(true);
  });
});

describe("HTTP failures as @upstash/redis reports them", () => {
  const upstashError = (message: string) => Object.assign(new Error(message), { name: "UpstashError" });

  it("a proxy whose Redis is down or restarting (HTTP 502 with a JSON error) is SERVER_ERROR and transient", () => {
    const wrapped = toRedisCommandError(
      "release",
      upstashError('Redis unavailable: connect ECONNREFUSED 127.0.0.1:40001, command was: ["evalsha","abc",1,"k"]'),
    );
    expect(wrapped.code).toBe("SERVER_ERROR");
    expect(wrapped.transient).toBe(true);
  });

  it("a Redis reply error passed through the SDK keeps its Redis code", () => {
    const wrapped = toRedisCommandError("acquire", upstashError("WRONGTYPE Operation against a key holding the wrong kind of value, command was: [...]"));
    expect(wrapped.code).toBe("WRONGTYPE");
    expect(wrapped.transient).toBe(false);
  });
});
