/*
 * The options that `pulselock inspect` and `pulselock release` share (where
 * Redis is, which prefix) and their own flags, parsed by hand like the rest of
 * the command: `--flag value`, `--flag=value`, boolean `--flag`, positionals.
 */
export class UsageError extends Error {}

/** A failure to report to the person at the terminal: one line, no stack, exit code `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

export interface ConnectOptions {
  redis?: string;
  cluster: boolean;
  upstashUrl?: string;
  upstashToken?: string;
  /** Everything in front of `pl:` in the Redis keys: the client's keyPrefix and RedisDatabase's prefix together. */
  prefix: string;
}

export interface ParsedArgs {
  connect: ConnectOptions;
  flags: Set<string>;
  values: Map<string, string>;
  positionals: string[];
}

const CONNECT_VALUES = ["redis", "upstash-url", "upstash-token", "prefix"];

/**
 * `valueNames`/`flagNames`: the command's own options besides the connection ones. Upstash's URL and token fall
 * back to UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, as in @upstash/redis's Redis.fromEnv().
 */
export function parseArgs(argv: readonly string[], valueNames: string[], flagNames: string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs | "help" {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  const valueSet = new Set([...CONNECT_VALUES, ...valueNames]);
  const flagSet = new Set(["cluster", ...flagNames]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const [, name = "", inline] = /^--([^=]+)(?:=([\s\S]*))?$/.exec(arg) ?? [];
    if (flagSet.has(name) && inline === undefined) {
      flags.add(name);
      continue;
    }
    if (!valueSet.has(name)) throw new UsageError(`unknown option --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    if (values.has(name)) throw new UsageError(`--${name} given twice`);
    values.set(name, value);
  }
  const upstashUrl = values.get("upstash-url") ?? (values.has("redis") ? undefined : env.UPSTASH_REDIS_REST_URL || undefined);
  const upstashToken = values.get("upstash-token") ?? (values.has("redis") ? undefined : env.UPSTASH_REDIS_REST_TOKEN || undefined);
  const redis = values.get("redis");
  if (redis !== undefined && values.has("upstash-url")) throw new UsageError("give either --redis or --upstash-url, not both");
  if (redis === undefined && upstashUrl === undefined) {
    throw new UsageError("where is Redis? give --redis redis://host:port, or --upstash-url and --upstash-token (or UPSTASH_REDIS_REST_URL and _TOKEN)");
  }
  if (upstashUrl !== undefined && upstashToken === undefined) throw new UsageError("--upstash-url needs --upstash-token (or UPSTASH_REDIS_REST_TOKEN)");
  if (flags.has("cluster") && redis === undefined) throw new UsageError("--cluster goes with --redis");
  return {
    connect: { redis, cluster: flags.has("cluster"), upstashUrl, upstashToken, prefix: values.get("prefix") ?? "" },
    flags,
    values,
    positionals,
  };
}

/** The connection options' help, shared by both commands. */
export const CONNECT_HELP = `  --redis <url>           redis://[user:password@]host:port[/db] or rediss://… (a cluster node works too)
  --cluster               the URL is a Redis Cluster node (found out from INFO when left out; a user whose ACL
                          refuses INFO is taken for a single Redis)
  --upstash-url <url>     an Upstash REST URL (or UPSTASH_REDIS_REST_URL)
  --upstash-token <t>     its token (or UPSTASH_REDIS_REST_TOKEN)
  --prefix <p>            everything in front of "pl:" in the keys: the client's keyPrefix and
                          RedisDatabase's prefix option together (default: none)`;
