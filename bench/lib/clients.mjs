// The client settings the libraries run with. Each peer in the uncontended
// phase runs with auto-pipelining off and on (both reported, the better one
// counts); the other phases keep one setting for everyone.
import Redis from "ioredis";
import { Redis as Upstash } from "@upstash/redis";

/**
 * ioredis options for the phases that compare one setting only (BullMQ, the
 * ceiling, the singleton jobs): auto-pipelining on for all of them.
 */
export const IOREDIS_OPTIONS = Object.freeze({ enableAutoPipelining: true });

/**
 * The two client settings of the uncontended phase, for ioredis and @upstash/redis alike. ioredis
 * defaults to auto-pipelining off, @upstash/redis 1.39 to on; `defaultFor` names each client's default.
 */
export const CLIENT_SETTINGS = Object.freeze({
  "ap-off": { label: "auto-pipelining off", ioredis: { enableAutoPipelining: false }, upstash: { enableAutoPipelining: false } },
  "ap-on": { label: "auto-pipelining on", ioredis: { enableAutoPipelining: true }, upstash: { enableAutoPipelining: true } },
});
export const DEFAULT_SETTING = Object.freeze({ ioredis: "ap-off", upstash: "ap-on" });

export function ioredis(url, extra = {}) {
  const client = new Redis(url, { ...IOREDIS_OPTIONS, ...extra });
  client.on("error", () => {});
  return client;
}

/** @upstash/redis; auto-pipelining is on by default in 1.39, `extra` may turn it off. */
export function upstash({ url, token }, extra = {}) {
  return new Upstash({ url, token, enableTelemetry: false, ...extra });
}

export async function closeIoredis(...clients) {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
}
