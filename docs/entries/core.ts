/**
 * The runtime-agnostic entry: no `node:` import and no client library, so it
 * bundles for Cloudflare Workers, Vercel Edge and browsers. Its {@link Locker}
 * writes liveness from the current thread's timers, only while it holds a lock,
 * and its {@link RedisDatabase} recognises `@upstash/redis` clients. The package
 * root resolves here under the `default` export condition; `pulselock/core`
 * names it explicitly on any runtime.
 *
 * @module pulselock/core
 */
export * from "../../src/index";
