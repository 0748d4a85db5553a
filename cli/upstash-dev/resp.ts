/**
 * A minimal, binary-safe RESP2 client for the upstash-dev server.
 *
 * Why not ioredis: it transforms replies (HGETALL becomes an object even
 * through `call()`), and the REST protocol needs the raw RESP2 shapes and the
 * raw bytes of every string so it can base64-encode them faithfully.
 *
 * Model: a connection writes each command as soon as it is sent and matches
 * replies to commands in order (RESP is strictly ordered), so a caller that
 * sends several commands without awaiting gets pipelining for free. Redis
 * errors are reply *values* (`RedisErrorReply`) so a pipeline can carry them
 * inline; only a broken connection rejects, with `RedisConnectionError`, so the
 * server can tell "Redis said no" (400/inline) from "Redis is unreachable" (502).
 * After a failure the connection reconnects lazily, on the next `send`.
 */
import { connect, type Socket } from "node:net";

/** An error reply (`-ERR …`) from Redis, carried as a value, never thrown. */
export class RedisErrorReply {
  constructor(readonly message: string) {}
}

/** Redis could not be reached, or the connection broke before the reply arrived. */
export class RedisConnectionError extends Error {
  override readonly name = "RedisConnectionError";
}

/**
 * A RESP2 reply: simple and bulk strings as raw bytes, integers as numbers
 * (64-bit values beyond 2^53 lose precision, as they would in JSON anyway),
 * null bulk/array as null, arrays nested to any depth, errors as values.
 */
export type Reply = Buffer | number | null | RedisErrorReply | Reply[];

export type Arg = string | Buffer;

export interface RespConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /** How long a TCP connect may take before it counts as a failure. */
  connectTimeoutMs?: number;
}

/** Parses `redis://[[user]:password@]host[:port][/db]`; TLS (`rediss://`) is not supported. */
export function parseRedisUrl(url: string): RespConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not echoed: it may hold a password.
    throw new Error("invalid Redis URL (expected redis://host:port)");
  }
  if (u.protocol !== "redis:") throw new Error(`unsupported Redis URL scheme "${u.protocol}" (only redis:// is supported)`);
  if (!u.hostname) throw new Error("the Redis URL has no host (expected redis://host:port)");
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, "");
  if (dbText !== "" && !/^\d+$/.test(dbText)) throw new Error(`Redis URL "${url}" has an invalid database number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""), // IPv6 literals come bracketed
    port,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: dbText === "" ? undefined : Number(dbText),
  };
}

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg, "utf8") : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from("\r\n");

/** A parsed reply and where it ended, or how many bytes are needed before parsing can make progress. */
type Parsed = { value: Reply; end: number } | { need: number };

/** Thrown for bytes that are not RESP2; the connection cannot recover and is closed. */
class RespProtocolError extends Error {}

/** Parses one reply starting at `pos`; never copies bulk data it cannot finish. */
export function parseReply(buf: Buffer, pos: number): Parsed {
  if (pos >= buf.length) return { need: pos + 1 };
  const lineEnd = buf.indexOf(CRLF, pos + 1);
  if (lineEnd === -1) return { need: buf.length + 1 };
  const line = buf.subarray(pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (buf[pos]) {
    case 0x2b: // '+' simple string
      return { value: Buffer.from(line), end: next };
    case 0x2d: // '-' error
      return { value: new RedisErrorReply(line.toString("utf8")), end: next };
    case 0x3a: // ':' integer
      return { value: toInteger(line), end: next };
    case 0x24: {
      // '$' bulk string
      const len = toInteger(line);
      if (len < 0) return { value: null, end: next };
      const end = next + len + 2;
      if (buf.length < end) return { need: end };
      return { value: Buffer.from(buf.subarray(next, next + len)), end };
    }
    case 0x2a: {
      // '*' array
      const count = toInteger(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if ("need" in item) return item;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new RespProtocolError(`unexpected RESP type byte 0x${(buf[pos] ?? 0).toString(16)}`);
  }
}

function toInteger(line: Buffer): number {
  const n = Number(line.toString("latin1"));
  if (!Number.isInteger(n)) throw new RespProtocolError(`invalid RESP integer "${line.toString("latin1")}"`);
  return n;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * One Redis connection with in-order reply matching. Connects on first use
 * and again on the first use after any failure.
 */
export class RespConnection {
  private socket: Socket | undefined;
  private pending: Pending[] = [];
  /** Received bytes not yet parsed, kept as chunks so a large reply is concatenated once, not per chunk. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = 1;
  private closed = false;

  constructor(private readonly options: RespConnectionOptions) {}

  /** Sends one command; resolves with its reply (errors included), rejects only with RedisConnectionError. */
  send(args: readonly Arg[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new RedisConnectionError("connection closed"));
    const socket = this.socket ?? this.open();
    return this.enqueue(socket, encodeCommand(args));
  }

  /** Closes the socket for good; pending commands reject with `error`. */
  close(error = new RedisConnectionError("connection closed")): void {
    this.closed = true;
    this.fail(error);
  }

  private enqueue(socket: Socket, bytes: Buffer): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      socket.write(bytes);
    });
  }

  private open(): Socket {
    const { host, port, connectTimeoutMs = 2000 } = this.options;
    const socket = connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const where = `${host}:${port}`;
    // A connect to a black-holed address would otherwise hang every request queued behind it.
    socket.setTimeout(connectTimeoutMs, () => this.fail(new RedisConnectionError(`connect to Redis at ${where} timed out`), socket));
    socket.once("connect", () => socket.setTimeout(0));
    socket.on("data", (chunk: Buffer) => this.receive(chunk, socket));
    socket.on("error", (e: Error) => this.fail(new RedisConnectionError(`Redis at ${where}: ${e.message}`, { cause: e }), socket));
    socket.on("close", () => this.fail(new RedisConnectionError(`Redis at ${where} closed the connection`), socket));
    this.handshake(socket);
    return socket;
  }

  /** AUTH and SELECT go first on every new socket; an error reply there means the connection is unusable. */
  private handshake(socket: Socket): void {
    const { username, password, db } = this.options;
    const steps: Arg[][] = [];
    if (password !== undefined) steps.push(username ? ["AUTH", username, password] : ["AUTH", password]);
    if (db !== undefined && db !== 0) steps.push(["SELECT", String(db)]);
    for (const step of steps) {
      // Checked synchronously while the reply is parsed, so a failed AUTH fails the
      // connection before the commands queued behind it are answered with NOAUTH.
      this.pending.push({
        resolve: (reply) => {
          if (reply instanceof RedisErrorReply) {
            this.fail(new RedisConnectionError(`Redis rejected ${String(step[0])}: ${reply.message}`), socket);
          }
        },
        reject: () => {}, // the same failure reaches the real commands queued behind the handshake
      });
      socket.write(encodeCommand(step));
    }
  }

  private receive(chunk: Buffer, socket: Socket): void {
    if (socket !== this.socket) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    let buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    let pos = 0;
    try {
      for (;;) {
        const parsed = parseReply(buf, pos);
        if ("need" in parsed) {
          this.needed = parsed.need - pos;
          break;
        }
        pos = parsed.end;
        const waiter = this.pending.shift();
        if (!waiter) throw new RespProtocolError("reply without a pending command");
        waiter.resolve(parsed.value);
        if (this.socket !== socket) return; // a resolved waiter closed us
      }
    } catch (error) {
      this.fail(new RedisConnectionError(`RESP protocol error: ${(error as Error).message}`), socket);
      socket.destroy();
      return;
    }
    buf = buf.subarray(pos);
    this.chunks = buf.length > 0 ? [buf] : [];
    this.buffered = buf.length;
    if (buf.length === 0) this.needed = 1;
  }

  /** Drops the socket (if it is still the current one) and rejects everything in flight on it. */
  private fail(error: RedisConnectionError, socket: Socket | undefined = this.socket): void {
    if (socket === undefined || socket !== this.socket) return;
    this.socket = undefined;
    this.chunks = [];
    this.buffered = 0;
    this.needed = 1;
    const pending = this.pending;
    this.pending = [];
    socket.destroy();
    for (const p of pending) p.reject(error);
  }
}
