/**
 * The ioredis transport on its own, for code that builds a
 * {@link RedisDatabase} from a transport (the Node entry's `RedisDatabase`
 * recognises ioredis clients directly, so most code never needs this).
 *
 * @module pulselock/ioredis
 */
export * from "../../adapters/ioredis/index";
