/*
 * Adapts an @upstash/redis client (HTTP Redis, for edge runtimes) to
 * pulselock's Transport. Recognised and typed by shape, never imported, so
 * the edge entry stays small and platform-neutral. It
 * lives in the core, not in adapters/, because it needs nothing but fetch:
 * the runtime-agnostic RedisDatabase recognises Upstash clients by it, and
 * the pulselock/upstash subpath re-exports it.
 * HTTP has no pub/sub: mutex() waiters poll.
 */
import { MALFORMED_REPLY } from "./redis-errors";
import { hasShape } from "./shape";
import type { ClientRecipe, Transport } from "./transport";
import { microtask } from "./timers";

/**
 * The commands pulselock calls on an @upstash/redis `Redis` client (any of its
 * builds), and the `pipeline` it is recognised by; spelt out here rather than
 * picked from the SDK's types, so that the core imports no client library.
 */
export interface UpstashClient {
  /** Runs a script by its SHA1. */
  evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown>;
  /** Runs a script from its source. */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** Not called: together with the SDK's HTTP client object, what tells an Upstash client from ioredis. */
  pipeline(): unknown;
}

interface UpstashInternals {
  client?: {
    baseUrl?: unknown;
    headers?: Record<string, unknown>;
    request?(req: { body: unknown[]; path?: string[] }): Promise<{ result?: unknown; error?: string }>;
  };
}

function isUpstash(client: unknown): client is UpstashClient & UpstashInternals {
  // ioredis has duplicate(); Upstash has none, but has its HTTP client object.
  return hasShape(client, { evalsha: "function", eval: "function", pipeline: "function", duplicate: "!function", client: "object" });
}

/**
 * The SDK reads a reply without checking its shape, so a well-formed JSON body
 * that is not a protocol answer ({}, [], null, a proxy's JSON) surfaces as the
 * SDK's own TypeError ("res.map is not a function"). Network failures are
 * TypeErrors too ("fetch failed"), so those are left as they are.
 */
function rethrowMalformed(error: unknown): never {
  if (error instanceof TypeError && !/fetch|network|socket|connect|abort/i.test(error.message)) {
    const malformed = new Error(`a REST reply that is not the protocol's (${error.message})`, { cause: error });
    malformed.name = MALFORMED_REPLY;
    throw malformed;
  }
  throw error;
}

type HttpRequest = NonNullable<NonNullable<UpstashInternals["client"]>["request"]>;

const upstashError = (message: string) => Object.assign(new Error(message), { name: "UpstashError" });

/**
 * Script calls through the SDK's own HTTP client, without its reply
 * deserialization: that runs JSON.parse on every string of a reply and
 * catches the SyntaxError, which cost more client CPU than the rest of a
 * batched lock call, and it can turn a foreign value into an object. The
 * calls made in one microtask checkpoint (a Locker's acquire and release
 * batches of one turn) share one /pipeline request: an HTTP request costs
 * far more client CPU than the commands it carries.
 */
function pipelined(http: { request: HttpRequest }) {
  let queue: { body: unknown[]; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] | undefined;
  const settle = (call: NonNullable<typeof queue>[number], reply: { result?: unknown; error?: string } | undefined) => {
    if (reply?.error) call.reject(upstashError(reply.error));
    else if (reply?.result === undefined) call.reject(new TypeError("Request did not return a result"));
    else call.resolve(reply.result);
  };
  const flush = async () => {
    const calls = queue!;
    queue = undefined;
    try {
      if (calls.length === 1) return settle(calls[0]!, await http.request({ body: calls[0]!.body }));
      const replies: unknown = await http.request({ path: ["pipeline"], body: calls.map((c) => c.body) });
      if (!Array.isArray(replies) || replies.length !== calls.length) throw new TypeError("a pipeline reply of the wrong length");
      calls.forEach((call, i) => settle(call, replies[i] as { result?: unknown; error?: string }));
    } catch (error) {
      for (const call of calls) call.reject(error);
    }
  };
  return (command: string, script: string, keys: string[], args: string[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (!queue) {
        queue = [];
        microtask(() => void flush());
      }
      queue.push({ body: [command, script, keys.length, ...keys, ...args], resolve, reject });
    });
}

/**
 * Wraps an `@upstash/redis` client as a {@link Transport}, or returns undefined
 * when `client` is not one. Recognised by shape, so that pulselock imports no
 * client library and the edge bundle stays small; HTTP failures become
 * RedisCommandErrors with codes such as `UNAUTHORIZED` and `RATE_LIMITED`.
 */
export function upstashTransport(client: unknown): Transport | undefined {
  if (!isUpstash(client)) return undefined;
  const http = client.client!;
  const raw = typeof http.request === "function" ? pipelined(http as { request: HttpRequest }) : undefined;
  const sdk = (command: string, script: string, keys: string[], args: string[]) =>
    command === "evalsha" ? client.evalsha(script, keys, args) : client.eval(script, keys, args);
  const call = raw ?? sdk;
  return {
    kind: "upstash",
    clientKeyPrefix: "",
    client,
    evalsha: (sha, keys, args) => call("evalsha", sha, keys, args).catch(rethrowMalformed),
    eval: (source, keys, args) => call("eval", source, keys, args).catch(rethrowMalformed),
  };
}

/**
 * The URL and token a liveness thread rebuilds an @upstash/redis client from.
 * Only the Node and Deno entries need it (edge isolates have no threads), so
 * recipeOf() calls it and edge bundles do not carry it.
 */
export function describeUpstash(client: unknown): ClientRecipe {
  const http = (client as UpstashInternals).client;
  const auth = String(http?.headers?.authorization ?? http?.headers?.Authorization ?? "");
  if (typeof http?.baseUrl !== "string" || !auth.startsWith("Bearer ")) {
    throw new TypeError(
      "pulselock: cannot read the URL and token of this @upstash/redis client for the liveness thread; " +
        "pass the database as { moduleName, exportName } instead",
    );
  }
  return { kind: "upstash", url: http.baseUrl, token: auth.slice("Bearer ".length) };
}
