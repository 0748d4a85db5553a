/**
 * `pulselock upstash-dev --redis redis://127.0.0.1:6380 [--port 8079] [--host 127.0.0.1] [--token T]`
 *
 * Runs the upstash-dev server (the Upstash REST protocol in front of a real
 * redis-server, see ./server.ts) until SIGINT or SIGTERM, so an app using
 * @upstash/redis can be developed and tested locally. Prints the URL and token
 * as UPSTASH_REDIS_REST_URL / _TOKEN lines, ready for an .env file.
 * No dependencies: argument parsing is done by hand.
 */
import { redactUrl } from "../ops/store";
import { randomUUID } from "node:crypto";
import { parseRedisUrl, RedisErrorReply, RespConnection } from "./resp";
import { startUpstashDevServer } from "./server";

const USAGE = `usage: pulselock upstash-dev --redis <redis://host:port[/db]> [--port <n>] [--host <h>] [--token <t>]

  --redis   the redis-server to put the REST protocol in front of (required)
  --port    HTTP port to listen on (default 8079; 0 picks a free one)
  --host    interface to listen on (default 127.0.0.1)
  --token   bearer token clients must send (default: a random UUID, printed)`;

export interface CliOptions {
  redisUrl: string;
  port: number;
  host: string;
  token: string;
}

class UsageError extends Error {}

/** Parses `[upstash-dev] --flag value | --flag=value …`; throws UsageError with a message fit for a human. */
export function parseArgs(argv: readonly string[]): CliOptions | "help" {
  const args = argv[0] === "upstash-dev" ? argv.slice(1) : [...argv];
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help") return "help";
    const match = /^--(redis|port|host|token)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(arg.startsWith("-") ? `unknown option ${arg}` : `unexpected argument "${arg}"`);
    const name = match[1]!;
    const value = match[2] ?? args[++i];
    if (value === undefined || (match[2] === undefined && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    if (values.has(name)) throw new UsageError(`--${name} given twice`);
    values.set(name, value);
  }
  const redisUrl = values.get("redis");
  if (!redisUrl) throw new UsageError("--redis is required, e.g. --redis redis://127.0.0.1:6380");
  try {
    parseRedisUrl(redisUrl);
  } catch (error) {
    throw new UsageError(`--redis: ${(error as Error).message}`);
  }
  const portText = values.get("port") ?? "8079";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${portText}"`);
  const host = values.get("host") ?? "127.0.0.1";
  if (host === "") throw new UsageError("--host must not be empty");
  const token = values.get("token") ?? randomUUID();
  if (token.trim() === "" || /\s/.test(token)) throw new UsageError("--token must be non-empty and contain no whitespace");
  return { redisUrl, port, host, token };
}

/** One PING so a typo in --redis shows up at start, not as 502s later. Never fatal: Redis may come up after us. */
async function redisReachable(redisUrl: string): Promise<string | undefined> {
  const conn = new RespConnection(parseRedisUrl(redisUrl));
  try {
    const reply = await conn.send(["PING"]);
    return reply instanceof RedisErrorReply ? reply.message : undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    conn.close();
  }
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code (2 for bad arguments, 1 if it cannot start). */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let options: CliOptions | "help";
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`pulselock upstash-dev: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  let server;
  try {
    server = await startUpstashDevServer(options);
  } catch (error) {
    console.error(`pulselock upstash-dev: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`);
    return 1;
  }
  const problem = await redisReachable(options.redisUrl);
  if (problem) console.error(`pulselock upstash-dev: warning: ${problem}; requests get HTTP 502 until Redis answers`);
  // The Redis URL without its password: the banner ends up in terminals and logs (the REST token is printed on purpose).
  console.log(`upstash-dev: Upstash REST protocol on ${server.url} -> ${redactUrl(new URL(options.redisUrl))}`);
  console.log(`UPSTASH_REDIS_REST_URL=${server.url}`);
  console.log(`UPSTASH_REDIS_REST_TOKEN=${server.token}`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off("SIGINT", stop).off("SIGTERM", stop);
      resolve(sig);
    };
    process.on("SIGINT", stop).on("SIGTERM", stop);
  });
  // A second signal while closing means "now": don't make the user wait for slow requests.
  const force = () => process.exit(1);
  process.on("SIGINT", force).on("SIGTERM", force);
  console.log(`upstash-dev: ${signal}, shutting down`);
  await server.close();
  process.off("SIGINT", force).off("SIGTERM", force);
  return 0;
}
