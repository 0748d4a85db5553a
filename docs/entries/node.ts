/**
 * The entry for Node and Bun: the package root under the `node` and `bun`
 * export conditions, and `pulselock/node` explicitly. Everything of
 * `pulselock/core`, with a {@link Locker} whose liveness record is written from a
 * worker thread (so a blocked event loop does not make the process look dead)
 * and a {@link RedisDatabase} that also recognises ioredis `Redis` and `Cluster`
 * clients.
 *
 * @module pulselock
 */
export * from "../../adapters/node/index";
