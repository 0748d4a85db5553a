/*
 * pulselock/upstash: the @upstash/redis transport on its own (the root
 * RedisDatabase also recognises Upstash clients directly). It needs only
 * fetch, so it lives in the runtime-agnostic core, whose RedisDatabase
 * recognises Upstash clients with it; this entry only names it.
 */
export { upstashTransport } from "../../src/upstash-transport";
export type { UpstashClient } from "../../src/upstash-transport";
export { RedisDatabase } from "../../src/database";
