/*
 * The Store over Upstash's REST protocol, with fetch alone (no client
 * library): commands travel in /pipeline requests, a SCAN cursor at a time.
 * A wrong token is HTTP 401, said as such; the token never appears in output.
 */
import type { Transport } from "../../src/transport";
import { CliError } from "./args";
import { SCAN_COUNT, parseUrl, redactUrl, scrub, type Store } from "./store";

/** An Upstash pipeline request carries at most this many commands here (its request size stays far below the 1 MB limit). */
const PIPELINE_MAX = 1000;
const TIMEOUT_MS = 15_000;

export async function connectUpstash(text: string, token: string): Promise<Store> {
  const url = parseUrl("upstash-url", text, ["https:", "http:"]);
  const where = redactUrl(url);
  const base = url.href.replace(/\/+$/, "");
  const secrets = [token];
  const request = async (path: string, body: unknown): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach Upstash at ${where}: ${scrub(cause?.code ?? cause?.message ?? (error as Error).message, secrets)}`);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) throw new CliError(`Upstash at ${where} refused the token (HTTP ${res.status}): check --upstash-token`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`${where} did not answer like an Upstash REST endpoint (HTTP ${res.status}, not JSON): check --upstash-url`);
    }
    if (!res.ok && !Array.isArray(json)) {
      const error = (json as { error?: unknown } | null)?.error;
      throw new CliError(`Upstash at ${where} answered HTTP ${res.status}${typeof error === "string" ? `: ${scrub(error, secrets)}` : ""}`);
    }
    return json;
  };
  const run = async (commands: string[][]): Promise<unknown[]> => {
    const out: unknown[] = [];
    for (let i = 0; i < commands.length; i += PIPELINE_MAX) {
      const chunk = commands.slice(i, i + PIPELINE_MAX);
      const replies = await request("/pipeline", chunk);
      if (!Array.isArray(replies) || replies.length !== chunk.length) {
        throw new CliError(`${where} did not answer like an Upstash REST endpoint (a pipeline reply of the wrong shape): check --upstash-url`);
      }
      for (const r of replies as { result?: unknown; error?: string }[]) out.push(typeof r?.error === "string" ? replyError(r.error) : r?.result);
    }
    return out;
  };
  const one = async (command: string[]) => {
    const [reply] = await run([command]);
    if (reply instanceof Error) throw reply;
    return reply;
  };
  await one(["PING"]); // the token and URL are checked before anything else
  const transport: Transport = {
    kind: "upstash",
    clientKeyPrefix: "",
    evalsha: (sha, keys, args) => one(["EVALSHA", sha, String(keys.length), ...keys, ...args]),
    eval: (source, keys, args) => one(["EVAL", source, String(keys.length), ...keys, ...args]),
  };
  return {
    where,
    isCluster: false,
    transport,
    async *scan(pattern) {
      let cursor = "0";
      do {
        const [next, keys] = (await one(["SCAN", cursor, "MATCH", pattern, "COUNT", String(SCAN_COUNT)])) as [string | number, string[]];
        cursor = String(next);
        if (keys.length > 0) yield keys;
      } while (cursor !== "0");
    },
    run,
    async close() {},
  };
}

/** An error reply as ioredis would give it: an Error named ReplyError whose message starts with the code. */
function replyError(message: string): Error {
  return Object.assign(new Error(message), { name: "ReplyError" });
}
