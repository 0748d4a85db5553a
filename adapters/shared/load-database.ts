/*
 * Loads a `{ moduleName, exportName }` database reference, in the main thread
 * and in the liveness thread alike, and says clearly what is wrong with a
 * reference that does not name a RedisDatabase. How a module is imported is
 * the runtime's (Node resolves like require(), Deno imports), so each runtime
 * adapter passes its own importer.
 */
import { isDatabase, type DatabaseModule, type RedisDatabase } from "../../src/database";
import { DatabaseLoadError, messageOf } from "../../src/errors";
import { withTimeout } from "../../src/timers";

/** Imports a module by an absolute path, a `file:` URL or a package name. */
export type ImportModule = (moduleName: string) => Promise<unknown>;

/**
 * A load bounded by `timeoutMs` in the main thread: a module that awaits a
 * lock at its own top level would otherwise wait for itself forever.
 */
export function withinLoadTimeout(load: Promise<RedisDatabase>, reference: DatabaseModule, timeoutMs: number): Promise<RedisDatabase> {
  return withTimeout(
    load,
    timeoutMs,
    () =>
      new DatabaseLoadError(
        `pulselock: loading the database module ${JSON.stringify(reference.moduleName)} took over ${timeoutMs} ms; ` +
          "if that module itself awaits a lock at its top level, it waits for its own import: move the lock calls out of it",
      ),
  );
}

/** Imports a `{ moduleName, exportName }` reference with `importModule` and returns its RedisDatabase. */
export async function loadDatabaseWith(importModule: ImportModule, { moduleName, exportName }: DatabaseModule): Promise<RedisDatabase> {
  if (moduleName.startsWith(".")) {
    throw new DatabaseLoadError(
      `pulselock: database moduleName ${JSON.stringify(moduleName)} is relative; use an absolute path ` +
        "(__filename in CJS), a file: URL (import.meta.url in ESM) or a package name",
    );
  }
  let mod: unknown;
  try {
    mod = await importModule(moduleName);
  } catch (error) {
    throw new DatabaseLoadError(`pulselock: cannot import the database module ${JSON.stringify(moduleName)}: ` + messageOf(error), { cause: error });
  }
  const value = exportOf(mod, exportName);
  if (!isDatabase(value)) {
    throw new DatabaseLoadError(
      `pulselock: module ${JSON.stringify(moduleName)} has no export ${JSON.stringify(exportName)} that is a ` +
        `RedisDatabase (found ${value === undefined ? "nothing" : typeof value}); export one, e.g. ` +
        `\`export const ${exportName} = new RedisDatabase(new Redis(...))\``,
    );
  }
  return value;
}

const isHolder = (value: unknown): value is Record<string, unknown> => (typeof value === "object" && value !== null) || typeof value === "function";

/** A named export, or that name on the default export (import() of a CommonJS module puts module.exports there). */
function exportOf(mod: unknown, exportName: string): unknown {
  if (!isHolder(mod)) return undefined;
  if (exportName in mod) return mod[exportName];
  return isHolder(mod.default) ? mod.default[exportName] : undefined;
}
