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
import { REPORTER_MARK } from "./reporter-protocol";

export type ModuleNamespace = Record<string, unknown>;

/**
 * A real dynamic import in both builds: bundlers turn `import()` into
 * `require()` in CommonJS output, and require() can load neither a file: URL
 * nor (on Node 20) an ES module.
 */
const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<ModuleNamespace>;

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
  const inLivenessThread = !isMainThread && (workerData as Record<string, unknown> | null)?.[REPORTER_MARK] === true;
  return inLivenessThread ? createRequire(import.meta.url) : undefined;
}

/** Codes of a require() that met a module only import() can load. */
const NEEDS_IMPORT = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE"]);

/** import() is missing under jest (and other vm-based runners) unless it runs with --experimental-vm-modules. */
const NO_DYNAMIC_IMPORT = "ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG";

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** A package name resolves from the application (the working directory) when it does not resolve from pulselock's own folder. */
const fromApplication = () => createRequire(`${process.cwd()}/`);

/** What require() would load for `name`, or undefined when require's rules find nothing (a runtime without them, an ESM-only package). */
function resolveLikeRequire(name: string): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(name);
  } catch {
    try {
      return fromApplication().resolve(name);
    } catch {
      return undefined;
    }
  }
}

async function importFile(name: string): Promise<ModuleNamespace> {
  const resolved = resolveLikeRequire(name);
  const specifier = resolved ?? name;
  try {
    return await dynamicImport(isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier);
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
      if (!NEEDS_IMPORT.has(codeOf(error) as string)) {
        if (codeOf(error) !== "MODULE_NOT_FOUND" || isAbsolute(name)) throw error;
        // A package name that pulselock's own folder cannot see: the application's may.
        const resolved = resolveLikeRequire(name);
        if (resolved === undefined) throw error;
        return load(resolved) as ModuleNamespace;
      }
    }
  }
  return importFile(name);
}
