/*
 * Loads the module that a database reference names, found the way require()
 * finds it (as @clickup/distributed-locker did): an absolute path with or
 * without its extension, a folder (index file, package.json "main"), a file:
 * URL, or a package name. The CommonJS build require()s it, so it loads under
 * jest without --experimental-vm-modules, through jest's own require and
 * transforms; the ESM build, and ES modules that require() cannot load,
 * import() the file that require's rules found.
 */
import { createRequire } from "node:module";
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, workerData } from "node:worker_threads";
import { dynamicImport } from "../shared/dynamic-import";
import { LIVENESS_MARK } from "../shared/liveness-protocol";

export type ModuleNamespace = Record<string, unknown>;

/**
 * The require() that loads user modules here, or undefined where import()
 * must: the CommonJS build's own (jest's, under jest), so that it finds what
 * the application's own require() loaded. In pulselock's liveness thread,
 * which loads the module afresh, a require() for this file, as the original
 * did everywhere: on Node 20 only require hooks reach a worker thread (tsx
 * registers its import hooks in the main thread only). Not in the ESM build's
 * main thread: there import() returns the very module the application
 * imported, where require() could run a second copy of it.
 */
function requireHere(): ((id: string) => unknown) | undefined {
  const own = typeof module === "object" && module !== null ? module : undefined;
  const load = own?.require as ((this: unknown, id: string) => unknown) | undefined;
  if (typeof load === "function") return (id) => load.call(own, id);
  const inLivenessThread = !isMainThread && (workerData as Record<string, unknown> | null)?.[LIVENESS_MARK] === true;
  return inLivenessThread ? createRequire(import.meta.url) : undefined;
}

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** Codes of a require() that met a module only import() can load. */
const NEEDS_IMPORT = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE"]);

/** Whether require() failed on an ES module (jest's require() runs one as a script, which stops at its first import or export). */
function needsImport(error: unknown): boolean {
  if (NEEDS_IMPORT.has(codeOf(error) as string)) return true;
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return name === "SyntaxError" && /\b(import|export)\b/.test(String(message));
}

/** import() is missing under jest (and other vm-based runners) unless it runs with --experimental-vm-modules. */
const NO_DYNAMIC_IMPORT = "ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG";

/**
 * The file require() would load for `name` (an absolute path without its extension, a folder, a package) from
 * `base` (a file URL, or a folder with a trailing slash), or undefined when it finds none.
 */
function resolveLikeRequire(name: string, base: string = import.meta.url): string | undefined {
  try {
    return createRequire(base).resolve(name);
  } catch {
    return undefined;
  }
}

/** Where a package name resolves from when pulselock's own folder cannot see it: the application's folder. */
const applicationFolder = () => `${process.cwd()}/`;

/**
 * A package name by import()'s own rules, so that an ES module application gets the instance it imported
 * (a dual package's require() entry would be a second one); resolved from the application (the working
 * directory) when pulselock's own folder cannot see it.
 */
async function importPackage(name: string): Promise<ModuleNamespace> {
  try {
    return await dynamicImport(name);
  } catch (first) {
    const resolved = codeOf(first) === NO_DYNAMIC_IMPORT ? undefined : resolveLikeRequire(name, applicationFolder());
    if (resolved === undefined) throw first;
    return dynamicImport(pathToFileURL(resolved).href).catch(() => {
      throw first;
    });
  }
}

async function importFile(name: string): Promise<ModuleNamespace> {
  const resolved = isAbsolute(name) ? resolveLikeRequire(name) : undefined;
  try {
    return await (isAbsolute(name) ? dynamicImport(pathToFileURL(resolved ?? name).href) : importPackage(name));
  } catch (error) {
    if (codeOf(error) !== NO_DYNAMIC_IMPORT) throw error;
    throw new Error(
      `${resolved ?? name} can only be loaded with import(), which this runtime lacks: under jest, make the database ` +
        "module CommonJS (jest's require() then loads it, with its transforms), or run jest with " +
        'NODE_OPTIONS="--experimental-vm-modules"',
      { cause: error },
    );
  }
}

/** Loads `moduleName` (absolute path, file: URL or package name); the caller has refused relative paths. */
export async function importModule(moduleName: string): Promise<ModuleNamespace> {
  const name = moduleName.startsWith("file:") ? fileURLToPath(moduleName) : moduleName;
  const load = requireHere();
  if (load) {
    try {
      return load(name) as ModuleNamespace;
    } catch (error) {
      if (!needsImport(error)) {
        // A package name that pulselock's own folder cannot see: the application's may.
        const fromApplication = codeOf(error) === "MODULE_NOT_FOUND" && !isAbsolute(name) ? resolveLikeRequire(name, applicationFolder()) : undefined;
        if (fromApplication === undefined) throw error;
        return load(fromApplication) as ModuleNamespace;
      }
    }
  }
  return importFile(name);
}
