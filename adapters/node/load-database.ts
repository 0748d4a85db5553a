/*
 * Database references on Node and Bun: modules found the way require() finds
 * them (./import-module.ts).
 */
import type { DatabaseModule, RedisDatabase } from "../../src/database";
import { loadDatabaseWith, withinLoadTimeout } from "../shared/load-database";
import { importModule } from "./import-module";

/**
 * Imports a `{ moduleName, exportName }` reference and returns its
 * RedisDatabase, the way the liveness thread does: exported so that a program
 * can check its reference at startup and get the same clear DatabaseLoadError
 * (module not found, no such export, not a RedisDatabase) before any lock is needed.
 */
export function loadDatabase(reference: DatabaseModule): Promise<RedisDatabase> {
  return loadDatabaseWith(importModule, reference);
}

/** {@link loadDatabase}, bounded by `timeoutMs`: what the main thread's Locker uses. */
export function loadDatabaseWithin(reference: DatabaseModule, timeoutMs: number): Promise<RedisDatabase> {
  return withinLoadTimeout(loadDatabase(reference), reference, timeoutMs);
}
