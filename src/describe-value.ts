/*
 * How an error message shows a value it refuses. Messages end up in logs, so
 * this never dumps what a value holds beyond its first level: a client object
 * carries its connection options (passwords, tokens), and a plain object may be
 * a client's options passed where a client belongs.
 */

const MAX_STRING = 80;
const MAX_KEYS = 6;
/** Keys whose values are credentials or may carry them; their values are never shown. */
const SECRET_KEY = /pass|secret|token|auth|credential|cookie|session|api.?key|private|sentinel|tls|url/i;

/**
 * `scheme://user:password@host` → `scheme://user:***@host`, a bare `://secret@host` likewise, and a `password=`
 * (or `token=`) query parameter, which ioredis honours too.
 */
function redactUrlCredentials(text: string): string {
  return text
    .replace(/(\/\/[^/\s:@]*:)[^/\s@]*@/g, "$1***@")
    .replace(/(\/\/)[^/\s:@]+@/g, "$1***@")
    .replace(/([?&](?:password|pass|token)=)[^&\s"]*/gi, "$1***");
}

function quoteString(text: string): string {
  const shown = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}… (${text.length} characters)` : text;
  return JSON.stringify(redactUrlCredentials(shown));
}

/** A class instance is shown by its class only: its fields are another library's internals (a client's options). */
function className(value: object): string | undefined {
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  if (proto === null || proto === Object.prototype) return undefined;
  const name = proto.constructor?.name;
  return typeof name === "string" && name !== "" ? name : "anonymous class";
}

/** One value inside an object: primitives in full (strings cut short), anything nested only by its kind. */
function shallow(value: unknown): string {
  if (typeof value === "string") return quoteString(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return value.toString();
  if (typeof value !== "object" || value === null) return String(value);
  if (Array.isArray(value)) return `[${value.length} items]`;
  const name = className(value);
  return name ? `${article(name)} ${name}` : "{…}";
}

/** "an EventEmitter", "a Map": by the first letter, which is right for class names often enough. */
const article = (word: string): string => (/^[aeiou]/i.test(word) ? "an" : "a");

/**
 * A value as an error message shows it: primitives as they are (strings
 * quoted, cut at 80 characters, with credentials in URLs masked), a plain
 * object by its first-level keys and primitive values (credential-like keys
 * masked), an array by its first items, a class instance (a client, a Map, …)
 * by its class name alone.
 */
export function describe(value: unknown): string {
  if (typeof value === "string") return quoteString(value);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const name = className(value);
    if (name) return `${article(name)} ${name} object`;
    const keys = Object.keys(value);
    if (keys.length === 0) return "an empty object {}";
    const entries = keys.slice(0, MAX_KEYS).map((key) => {
      const shown = SECRET_KEY.test(key) ? "***" : shallow((value as Record<string, unknown>)[key]);
      return `${JSON.stringify(key)}:${shown}`;
    });
    if (keys.length > MAX_KEYS) entries.push(`… ${keys.length - MAX_KEYS} more`);
    return `an object {${entries.join(",")}}`;
  }
  // An array by its first items, one level deep: a malformed Redis reply is worth seeing.
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_KEYS).map(shallow);
    if (value.length > MAX_KEYS) items.push(`… ${value.length - MAX_KEYS} more`);
    return `an array [${items.join(",")}]`;
  }
  return shallow(value);
}
