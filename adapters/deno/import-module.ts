/*
 * Loads the module that a database reference names on Deno, found as the Node
 * entry finds it (which Deno used before it had a loader of its own): an
 * absolute path with or without its extension, or a folder, by require()'s
 * rules (Deno's node:module resolves them); a `file:` URL as given; a package
 * name by import(), else from the application's folder (the working
 * directory) when pulselock's own folder cannot see it.
 */
import { createRequire } from "node:module";
import { isAbsolute } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dynamicImport } from "../shared/dynamic-import";

/** The file require() would load for `name` from `base` (a file URL, or a folder with a trailing slash), or undefined. */
function resolveLikeRequire(name: string, base: string): string | undefined {
  try {
    return createRequire(base).resolve(name);
  } catch {
    return undefined;
  }
}

/** Loads `moduleName` (absolute path, file: URL or package name); the caller has refused relative paths. */
export async function importModule(moduleName: string): Promise<Record<string, unknown>> {
  const name = moduleName.startsWith("file:") ? fileURLToPath(moduleName) : moduleName;
  if (isAbsolute(name)) return dynamicImport(pathToFileURL(resolveLikeRequire(name, import.meta.url) ?? name).href);
  try {
    return await dynamicImport(name);
  } catch (error) {
    const fromApplication = resolveLikeRequire(name, `${process.cwd()}/`);
    if (fromApplication === undefined) throw error;
    return dynamicImport(pathToFileURL(fromApplication).href).catch(() => {
      throw error;
    });
  }
}
