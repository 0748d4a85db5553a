/**
 * The entry for Deno: the package root under the `deno` export condition, and
 * `pulselock/deno` explicitly. Everything of `pulselock/core`, with a
 * {@link Locker} whose liveness record is written from a Web Worker (so a
 * blocked event loop does not make the process look dead) and a
 * {@link RedisDatabase} that also recognises ioredis clients (`npm:ioredis`).
 * The Web Worker runs only while a lock is held or being acquired, because a
 * Web Worker keeps Deno alive and cannot be unref'd.
 *
 * @module pulselock/deno
 */
export * from "../../adapters/deno/index";
