/*
 * Loads a `{ moduleName, exportName }` database reference on Node and Bun, in
 * the main thread and in the liveness thread alike: absolute paths, file:
 * URLs and package names; ESM and CJS modules.
 */
import { createRequire } from "node:module";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { isDatabase, type Database, type DatabaseReference } from "../../src/database";
import { ReporterError, messageOf } from "../../src/errors";
import { withTimeout } from "../../src/timers";
import { dynamicImport } from "../shared/dynamic-import";

function specifierOf(moduleName: string): string {
  return isAbsolute(moduleName) ? pathToFileURL(moduleName).href : moduleName;
}

async function importModule(moduleName: string): Promise<Record<string, unknown>> {
  const specifier = specifierOf(moduleName);
  try {
    return await dynamicImport(specifier);
  } catch (first) {
    // A package name is resolved from the application (the working directory), not from pulselock's own folder.
    if (specifier.startsWith("file:") || specifier.startsWith(".")) throw first;
    try {
      const resolved = createRequire(`${process.cwd()}/`).resolve(moduleName);
      return await dynamicImport(pathToFileURL(resolved).href);
    } catch {
      throw first;
    }
  }
}

/**
 * Loads a reference, bounded by `timeoutMs` in the main thread: a module that
 * awaits a lock at its own top level would otherwise wait for itself forever.
 */
export function loadDatabaseWithin(reference: DatabaseReference, timeoutMs: number): Promise<Database> {
  return withTimeout(
    loadDatabase(reference),
    timeoutMs,
    () =>
      new ReporterError(
        `pulselock: loading the database module ${JSON.stringify(reference.moduleName)} took over ${timeoutMs} ms; ` +
          "if that module itself awaits a lock at its top level, it waits for its own import: move the lock calls out of it",
      ),
  );
}

/**
 * Imports a `{ moduleName, exportName }` reference and returns its
 * RedisDatabase, the way the liveness thread does: exported so that a program
 * can check its reference at startup and get the same clear ReporterError
 * (module not found, no such export, not a RedisDatabase) before any lock is needed.
 */
export async function loadDatabase({ moduleName, exportName }: DatabaseReference): Promise<Database> {
  if (moduleName.startsWith(".")) {
    throw new ReporterError(
      `pulselock: database moduleName ${JSON.stringify(moduleName)} is relative; use an absolute path ` +
        "(__filename in CJS), a file: URL (import.meta.url in ESM) or a package name",
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(moduleName);
  } catch (error) {
    throw new ReporterError(
      `pulselock: cannot import the database module ${JSON.stringify(moduleName)}: ` +
        messageOf(error),
      { cause: error },
    );
  }
  const fromDefault = (mod.default as Record<string, unknown> | undefined)?.[exportName];
  const value = exportName in mod ? mod[exportName] : fromDefault;
  if (!isDatabase(value)) {
    throw new ReporterError(
      `pulselock: module ${JSON.stringify(moduleName)} has no export ${JSON.stringify(exportName)} that is a ` +
        `RedisDatabase (found ${value === undefined ? "nothing" : typeof value}); export one, e.g. ` +
        `\`export const ${exportName} = new RedisDatabase(new Redis(...))\``,
    );
  }
  return value;
}
