/*
 * pulselock on Deno (the "deno" condition of the package root, and the
 * pulselock/deno subpath): the whole core API, with a Locker whose liveness
 * record is written from a Web Worker, and a RedisDatabase that recognises
 * ioredis (npm:ioredis) as well as @upstash/redis clients.
 */
export * from "../../src/index";
export { Locker } from "./deno-locker";
export { RedisDatabase } from "../node/redis-database";
export { isReporterThread, denoPlatform } from "./platform";
export { WebWorkerLiveness } from "./web-worker-liveness";
export { loadDatabase } from "../node/load-database";
