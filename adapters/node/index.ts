/*
 * pulselock on Node and Bun (the "node" and "bun" conditions of the package
 * root, and the pulselock/node subpath): the whole core API, with a Locker
 * whose liveness record is written from a worker thread.
 */
export * from "../../src/index";
export { Locker } from "./node-locker";
export { RedisDatabase } from "./redis-database";
export { isReporterThread, nodePlatform } from "./platform";
export { ThreadLiveness } from "./thread-liveness";
export { loadDatabase } from "./load-database";
