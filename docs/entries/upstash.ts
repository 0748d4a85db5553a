/**
 * The `@upstash/redis` transport on its own (every entry's `RedisDatabase`
 * recognises Upstash clients directly, so most code never needs this).
 *
 * @module pulselock/upstash
 */
export * from "../../adapters/upstash/index";
