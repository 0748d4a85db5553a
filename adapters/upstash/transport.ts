/*
 * Adapts an @upstash/redis client (HTTP Redis, for edge runtimes) to
 * pulselock's Transport. Recognised by shape and only typed from the SDK,
 * never imported, so the edge entry stays small and platform-neutral.
 * HTTP has no pub/sub: mutex() waiters poll.
 */
import type { Redis } from "@upstash/redis";
import { MALFORMED_REPLY } from "../../src/redis-errors";
import { hasShape } from "../../src/shape";
import type { ClientRecipe, Transport } from "../../src/transport";

/** The commands pulselock calls on @upstash/redis. */
export type UpstashClient = Pick<Redis, "evalsha" | "eval">;

interface UpstashInternals {
  client?: {
    baseUrl?: unknown;
    headers?: Record<string, unknown>;
    request?(req: { body: unknown[] }): Promise<{ result?: unknown; error?: string }>;
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

/**
 * Wraps an `@upstash/redis` client as a {@link Transport}, or returns undefined
 * when `client` is not one. Recognised by shape, so that pulselock imports no
 * client library and the edge bundle stays small; HTTP failures become
 * RedisCommandErrors with codes such as `UNAUTHORIZED` and `RATE_LIMITED`.
 */
export function upstashTransport(client: unknown): Transport | undefined {
  if (!isUpstash(client)) return undefined;
  const c = client as unknown as {
    evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
    eval(src: string, keys: string[], args: string[]): Promise<unknown>;
  };
  const http = client.client!;
  // The SDK's own HTTP client, without its reply deserialization: that tries JSON.parse on every string of
  // a reply and catches the SyntaxError, which costs more client CPU than the rest of a batched lock call.
  // Raw replies also keep a foreign value a string. The commands fall back to the SDK's when it has no request().
  const raw = typeof http.request === "function"
    ? async (command: string, script: string, keys: string[], args: string[]) => {
        const { result, error } = await http.request!({ body: [command, script, keys.length, ...keys, ...args] });
        if (error) throw Object.assign(new Error(error), { name: "UpstashError" });
        if (result === undefined) throw new TypeError("Request did not return a result");
        return result;
      }
    : (command: string, script: string, keys: string[], args: string[]) =>
        command === "evalsha" ? c.evalsha(script, keys, args) : c.eval(script, keys, args);
  return {
    kind: "upstash",
    clientKeyPrefix: "",
    client,
    evalsha: (sha, keys, args) => raw("evalsha", sha, keys, args).catch(rethrowMalformed),
    eval: (source, keys, args) => raw("eval", source, keys, args).catch(rethrowMalformed),
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

