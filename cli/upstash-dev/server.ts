/**
 * upstash-dev: adapts the Upstash Redis REST protocol, as the @upstash/redis
 * 1.39 client speaks it (see the protocol notes in the repository's shared
 * docs), onto RESP2 in front of a real redis-server, so the unmodified client
 * can be tested against real Redis semantics (Lua, scripts cache, errors).
 *
 * Routes
 * - `POST /`            one command `["set","k","v"]` → 200 `{"result"}` | 400 `{"error"}`
 * - `POST /pipeline`    `[[cmd…],…]` → 200 `[{"result"}|{"error"},…]`, run in order on one connection
 * - `POST /multi-exec`  same shape, wrapped in MULTI/EXEC on a connection nobody else uses meanwhile;
 *                       queue-time errors (EXECABORT) → 400 `{"error"}`
 * - `GET /`             health: 200 `{"status":"ok","redis":"up"|"down"}`
 * - `POST /subscribe/…`, `/psubscribe/…` → 501 JSON (SSE is not implemented)
 * - anything else → 404 / 405 JSON. Every error answer is JSON `{"error"}`; Redis unreachable → 502.
 *
 * Replies: with `Upstash-Encoding: base64` every string at every depth is
 * base64 of the raw bytes (the client base64-decodes all of them); otherwise
 * UTF-8 text. Integers stay numbers, nil is null. Auth is `Authorization:
 * Bearer <token>` or `?_token=`; missing or wrong → 401 `{"error":"Unauthorized"}`.
 *
 * Fault injection (for tests that prove callers map each failure to a typed
 * error) — `server.inject(fault)`; each fault applies to the next `times`
 * POST requests (default 1, `Infinity` for "until cleared"):
 * - `{ status: 401|429|500|503, body? }` answers with that status *without
 *   touching Redis*, with a JSON `{"error"}` body or the raw `body` given (e.g.
 *   non-JSON garbage to provoke a parse error);
 * - `{ delayMs }` runs the request normally, then holds the answer for delayMs
 *   (so the command *has* run: the ambiguous-timeout case);
 * - `{ clear: true }` removes all pending faults.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseRedisUrl, RedisConnectionError, RedisErrorReply, RespConnection, type Reply, type RespConnectionOptions } from "./resp";

export interface UpstashDevServerOptions {
  /** `redis://[[user]:password@]host:port[/db]` of the redis-server to front. */
  redisUrl: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The bearer token clients must send; a random UUID when omitted. */
  token?: string;
  /** Upper bound on Redis connections; each request holds one for its duration. Default 8. */
  maxConnections?: number;
  /** Bodies above this get 413. Default 10 MiB, a commonly cited Upstash limit. */
  maxBodyBytes?: number;
  /**
   * A request whose commands get no reply from Redis within this many ms (a frozen or black-holed redis-server)
   * answers 502 and its connection is replaced; requests with a blocking command (BLPOP, XREAD, WAIT, …) may
   * wait as long as they ask. Default 10000: far above any healthy reply, and well below the client's patience.
   */
  replyTimeoutMs?: number;
}

export type Fault = { status: 401 | 429 | 500 | 503; body?: string; times?: number } | { delayMs: number; times?: number } | { clear: true };

export interface UpstashDevStats {
  /** POST requests per route that reached Redis (after auth, validation and faults). */
  requests: Record<string, number>;
  /** Commands sent to Redis by lowercase name (MULTI/EXEC wrappers not counted). */
  commands: Record<string, number>;
}

export interface UpstashDevServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
  /** Test hook: see "Fault injection" at the top of this file. */
  inject(fault: Fault): void;
  /** Test hook: counters, e.g. to prove that auto-pipelining used /pipeline. */
  stats(): UpstashDevStats;
}

const PROTOCOL_ROUTES = new Set(["/", "/pipeline", "/multi-exec"]);

/** Commands that would turn a request/response connection into something else; Upstash refuses them too. */
const UNAVAILABLE = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "sync",
  "psync",
  "hello",
  "quit",
  "reset",
]);
/** Would break the MULTI … EXEC wrapper that /multi-exec adds itself. */
const NOT_IN_TRANSACTION = new Set(["multi", "exec", "discard", "watch", "unwatch"]);
/** Leave state on the connection, so it is closed after the request instead of going back to the pool. */
const STATEFUL = new Set(["select", "multi", "exec", "discard", "watch", "unwatch", "client", "auth", "readonly", "readwrite"]);
/** Commands that may legitimately wait for a long time: no reply timeout applies to their requests. */
const BLOCKING = new Set(["blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "xread", "xreadgroup", "wait", "waitaof"]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Command = { name: string; args: string[] };

/** Validates one command array and coerces JSON numbers/booleans to the strings Redis expects. */
function toCommand(value: unknown, label: string): Command {
  if (!Array.isArray(value) || value.length === 0) throw new HttpError(400, `${label} must be a non-empty array`);
  if (typeof value[0] !== "string" || value[0] === "") throw new HttpError(400, `${label}: the command name must be a non-empty string`);
  const args = value.map((v: unknown, i) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    if (typeof v === "boolean") return String(v);
    const what = v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
    throw new HttpError(400, `${label}: argument ${i} is ${what}; only strings, numbers and booleans are allowed`);
  });
  const name = args[0]!.toLowerCase();
  if (UNAVAILABLE.has(name)) throw new HttpError(400, `ERR Command is not available: '${name}'`);
  return { name, args };
}

function toCommands(body: unknown, inTransaction: boolean): Command[] {
  if (!Array.isArray(body) || body.length === 0) throw new HttpError(400, "body must be a non-empty array of commands");
  return body.map((cmd, i) => {
    const command = toCommand(cmd, `command ${i}`);
    if (inTransaction && NOT_IN_TRANSACTION.has(command.name)) {
      throw new HttpError(400, `command ${i}: '${command.name}' is not allowed inside /multi-exec`);
    }
    return command;
  });
}

type Json = string | number | null | Json[];

/** RESP reply → JSON; errors nested below the top level become plain strings (they are data there). */
function toJson(reply: Reply, base64: boolean): Json {
  if (reply === null || typeof reply === "number") return reply;
  if (Buffer.isBuffer(reply)) return reply.toString(base64 ? "base64" : "utf8");
  if (reply instanceof RedisErrorReply) return toJson(Buffer.from(reply.message), base64);
  return reply.map((r) => toJson(r, base64));
}

function toEntry(reply: Reply, base64: boolean): { result: Json } | { error: string } {
  return reply instanceof RedisErrorReply ? { error: reply.message } : { result: toJson(reply, base64) };
}

/**
 * Hands each request a connection of its own for its whole duration, so a
 * request's commands are never interleaved with another's and a blocking
 * command only blocks its own request. Connections reconnect lazily.
 */
class ConnectionPool {
  private idle: RespConnection[] = [];
  /** Every live connection, busy or idle, so close() can end them all (a BLPOP 0 would keep the process alive). */
  private all = new Set<RespConnection>();
  private waiters: Array<{ resolve: (conn: RespConnection) => void; reject: (error: Error) => void }> = [];
  private closed = false;

  constructor(
    private readonly options: RespConnectionOptions,
    private readonly max: number,
  ) {}

  /** Runs `fn` on a connection of its own; after `replyTimeoutMs` (0: never) its commands fail and the connection is replaced. */
  async use<T>(fn: (conn: RespConnection) => Promise<T>, discardAfter = false, replyTimeoutMs = 0): Promise<T> {
    const conn = await this.acquire();
    let timedOut = false;
    const timer =
      replyTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            conn.close(new RedisConnectionError(`no reply from Redis within ${replyTimeoutMs} ms`));
          }, replyTimeoutMs)
        : undefined;
    try {
      return await fn(conn);
    } finally {
      clearTimeout(timer);
      this.release(conn, discardAfter || timedOut);
    }
  }

  close(): void {
    this.closed = true;
    for (const conn of this.all) conn.close();
    this.all.clear();
    this.idle = [];
    // Requests still waiting for a connection get their 502 now rather than never.
    for (const waiter of this.waiters.splice(0)) waiter.reject(new RedisConnectionError("server is closing"));
  }

  private acquire(): Promise<RespConnection> {
    if (this.closed) return Promise.reject(new RedisConnectionError("server is closing"));
    const conn = this.idle.pop();
    if (conn) return Promise.resolve(conn);
    if (this.all.size < this.max) return Promise.resolve(this.create());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(conn: RespConnection, discard: boolean): void {
    if (this.closed) return conn.close();
    if (discard) {
      conn.close();
      this.all.delete(conn);
      conn = this.create(); // keep the slot; the replacement connects on first use
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(conn);
    else this.idle.push(conn);
  }

  private create(): RespConnection {
    const conn = new RespConnection(this.options);
    this.all.add(conn);
    return conn;
  }
}

/** Pending injected faults, consumed one request at a time. */
class FaultInjector {
  private status: { status: number; body?: string; remaining: number } | undefined;
  private delay: { delayMs: number; remaining: number } | undefined;

  inject(fault: Fault): void {
    if ("clear" in fault) {
      this.status = this.delay = undefined;
      return;
    }
    const remaining = fault.times ?? 1;
    if (!(remaining === Infinity || (Number.isInteger(remaining) && remaining > 0))) {
      throw new TypeError(`fault.times must be a positive integer or Infinity, got ${String(remaining)}`);
    }
    if ("status" in fault) {
      if (![401, 429, 500, 503].includes(fault.status)) throw new TypeError(`unsupported fault status ${String(fault.status)}`);
      this.status = { status: fault.status, body: fault.body, remaining };
    } else {
      if (!(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)) throw new TypeError(`fault.delayMs must be ≥ 0, got ${String(fault.delayMs)}`);
      this.delay = { delayMs: fault.delayMs, remaining };
    }
  }

  take(): { status?: { status: number; body?: string }; delayMs: number } {
    const status = this.status;
    if (status && --status.remaining <= 0) this.status = undefined;
    const delay = this.delay;
    if (delay && --delay.remaining <= 0) this.delay = undefined;
    return { status, delayMs: delay?.delayMs ?? 0 };
  }
}

/** Reads the body; past the limit it keeps draining (so the 413 reaches the client) but stops buffering. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => (size > limit ? reject(new HttpError(413, `request body exceeds ${limit} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

function sameToken(given: string, expected: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function givenToken(req: IncomingMessage, url: URL): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  return match?.[1]?.trim() ?? url.searchParams.get("_token") ?? undefined;
}

export async function startUpstashDevServer(options: UpstashDevServerOptions): Promise<UpstashDevServer> {
  const {
    redisUrl,
    port = 0,
    host = "127.0.0.1",
    token = randomUUID(),
    maxConnections = 8,
    maxBodyBytes = 10 * 1024 * 1024,
    replyTimeoutMs = 10_000,
  } = options;
  if (!token) throw new TypeError("token must be a non-empty string");
  const pool = new ConnectionPool(parseRedisUrl(redisUrl), maxConnections);
  const faults = new FaultInjector();
  const delays = new Set<NodeJS.Timeout>();
  const stats: UpstashDevStats = { requests: {}, commands: {} };
  let syncToken = 0;

  const reply = (res: ServerResponse, status: number, body: unknown, contentType = "application/json") => {
    const text = typeof body === "string" && contentType !== "application/json" ? body : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(text),
      // Opaque and monotonic; the client echoes it back as read-your-writes hint.
      "upstash-sync-token": String(++syncToken),
    });
    res.end(text);
  };

  const execute = async (route: string, body: unknown, base64: boolean): Promise<[number, unknown]> => {
    const commands = route === "/" ? [toCommand(body, "command")] : toCommands(body, route === "/multi-exec");
    stats.requests[route] = (stats.requests[route] ?? 0) + 1;
    for (const { name } of commands) stats.commands[name] = (stats.commands[name] ?? 0) + 1;
    const discard = commands.some((c) => STATEFUL.has(c.name));
    const timeoutMs = commands.some((c) => BLOCKING.has(c.name)) ? 0 : replyTimeoutMs;
    if (route === "/") {
      const [command] = commands as [Command];
      const r = await pool.use((conn) => conn.send(command.args), discard, timeoutMs);
      return r instanceof RedisErrorReply ? [400, { error: r.message }] : [200, { result: toJson(r, base64) }];
    }
    if (route === "/pipeline") {
      // All sends are written before the first reply is awaited: one round trip, in order.
      const replies = await pool.use((conn) => Promise.all(commands.map((c) => conn.send(c.args))), discard, timeoutMs);
      return [200, replies.map((r) => toEntry(r, base64))];
    }
    const replies = await pool.use(
      (conn) => Promise.all([conn.send(["MULTI"]), ...commands.map((c) => conn.send(c.args)), conn.send(["EXEC"])]),
      discard,
      timeoutMs,
    );
    const exec = replies[replies.length - 1];
    if (Array.isArray(exec)) return [200, exec.map((r) => toEntry(r, base64))];
    const queueError = replies.slice(0, -1).find((r): r is RedisErrorReply => r instanceof RedisErrorReply);
    const message = exec instanceof RedisErrorReply ? exec.message : "EXECABORT Transaction aborted";
    return [400, { error: queueError ? `${message} (${queueError.message})` : message }];
  };

  const health = async (res: ServerResponse) => {
    const up = await pool
      .use((conn) => conn.send(["PING"]), false, replyTimeoutMs)
      .then(
        (r) => !(r instanceof RedisErrorReply),
        () => false,
      );
    reply(res, 200, { status: "ok", redis: up ? "up" : "down" });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://upstash-dev");
    const route = url.pathname.replace(/(.)\/+$/, "$1"); // the client strips trailing slashes; be as lenient
    if (/^\/p?subscribe\//.test(route)) return reply(res, 501, { error: "SSE subscribe is not implemented by upstash-dev" });
    if (!PROTOCOL_ROUTES.has(route)) return reply(res, 404, { error: `Not found: ${req.method} ${url.pathname}` });
    if (req.method === "GET" && route === "/") return health(res);
    if (req.method !== "POST") {
      res.setHeader("allow", route === "/" ? "GET, POST" : "POST");
      return reply(res, 405, { error: `Method not allowed: ${req.method} ${route}` });
    }
    const fault = faults.take();
    let status: number;
    let body: unknown;
    let contentType = "application/json";
    if (fault.status) {
      status = fault.status.status;
      body = fault.status.body ?? { error: `upstash-dev injected HTTP ${status} (${STATUS_CODES[status]})` };
      if (fault.status.body !== undefined) contentType = "text/plain";
    } else {
      [status, body] = await answer(req, url, route);
    }
    if (fault.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (delays.delete(timer), resolve()), fault.delayMs);
        delays.add(timer);
      });
    }
    reply(res, status, body, contentType);
  };

  const answer = async (req: IncomingMessage, url: URL, route: string): Promise<[number, unknown]> => {
    try {
      const given = givenToken(req, url);
      if (given === undefined || !sameToken(given, token)) throw new HttpError(401, "Unauthorized");
      const raw = await readBody(req, maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch (error) {
        throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
      }
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      return await execute(route, body, base64);
    } catch (error) {
      if (error instanceof HttpError) return [error.status, { error: error.message }];
      if (error instanceof RedisConnectionError) return [502, { error: `Redis unavailable: ${error.message}` }];
      return [500, { error: `upstash-dev internal error: ${(error as Error).message}` }];
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Last resort: answer in JSON rather than dropping the socket (the client would retry for ~4 s).
      if (!res.headersSent) reply(res, 500, { error: `upstash-dev internal error: ${String(error)}` });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    token,
    inject: (fault) => faults.inject(fault),
    stats: () => structuredClone(stats),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of delays) clearTimeout(timer);
        delays.clear();
        server.close(() => resolve());
        server.closeAllConnections(); // the client keeps connections alive; don't wait for them to idle out
        pool.close();
      }),
  };
}
