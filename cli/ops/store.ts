/*
 * What the operations commands need from Redis, whatever carries it: SCAN on
 * every master, many reads pipelined, and the scripts' transport (release
 * runs pulselock's own RELEASE script). Every failure becomes a CliError whose
 * message names the target without its password or token.
 */
import type { Transport } from "../../src/transport";
import { CliError } from "./args";

export interface Store {
  /** The target for messages: the URL without password or token. */
  readonly where: string;
  readonly isCluster: boolean;
  /** The batches of keys that SCAN MATCH `pattern` finds, on every master (SCAN, never KEYS). */
  scan(pattern: string): AsyncIterable<string[]>;
  /** Runs `commands` pipelined; each reply in order, or the Error Redis answered for that command. */
  run(commands: string[][]): Promise<unknown[]>;
  /** For pulselock's scripts (run-script.ts). */
  readonly transport: Transport;
  close(): Promise<void>;
}

/** How many keys one SCAN call looks at, and how many keys' reads travel in one pipeline. */
export const SCAN_COUNT = 1000;
export const CHUNK = 1000;

/** The URL as it may be shown: no password, no query (tokens sometimes travel there). */
export function redactUrl(url: URL): string {
  const user = url.username ? `${decodeURIComponent(url.username)}${url.password ? ":***" : ""}@` : url.password ? ":***@" : "";
  return `${url.protocol}//${user}${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

/** Parses a URL option; a bad one is a CliError that does not echo it (it may hold a password). */
export function parseUrl(option: string, text: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`--${option} is not a URL (expected ${protocols.map((p) => `${p}//host:port`).join(" or ")})`, 2);
  }
  if (!protocols.includes(url.protocol)) throw new CliError(`--${option} must start with ${protocols.join(" or ")}//, got ${url.protocol}//…`, 2);
  if (!url.hostname) throw new CliError(`--${option} has no host`, 2);
  return url;
}

/** Removes `secrets` from a message that a client library made (some repeat what they were given). */
export function scrub(message: string, secrets: (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s) out = out.split(s).join("***");
  return out;
}
