/*
 * pulselock/upstash: the @upstash/redis transport on its own (the root
 * RedisDatabase also recognises Upstash clients directly).
 */
export { upstashTransport } from "./transport";
export type { UpstashClient } from "./transport";
export { RedisDatabase } from "../../src/database";
