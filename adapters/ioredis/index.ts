/*
 * pulselock/ioredis: the ioredis transport on its own, for code that builds
 * a RedisDatabase from a Transport (the root RedisDatabase also recognises
 * ioredis clients directly).
 */
export { ioredisTransport } from "./transport";
export type { IoredisClient, IoredisCluster } from "./transport";
export { RedisDatabase } from "./redis-database";
