// The client settings every library gets, so the comparison is like for like.
import Redis from "ioredis";
import { Redis as Upstash } from "@upstash/redis";

/**
 * ioredis options for every ioredis-based library (pulselock, redlock,
 * @sesamecare-oss/redlock, redis-semaphore, BullMQ and the ceiling): auto-pipelining
 * on for all of them, so concurrent commands share round trips alike.
 */
export const IOREDIS_OPTIONS = Object.freeze({ enableAutoPipelining: true });

export function ioredis(url, extra = {}) {
  const client = new Redis(url, { ...IOREDIS_OPTIONS, ...extra });
  client.on("error", () => {});
  return client;
}

/** @upstash/redis with its defaults (auto-pipelining is on by default in 1.39) for both Upstash libraries. */
export function upstash({ url, token }) {
  return new Upstash({ url, token, enableTelemetry: false });
}

export async function closeIoredis(...clients) {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
}
