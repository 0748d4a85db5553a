/*
 * Loads the module that a database reference names, by Deno's own import():
 * a `file:` URL or a package name as given, an absolute path as the file: URL
 * of that path. Deno resolves specifiers by its own rules, so the path must
 * name the file itself (Node's loader also finds a path without its
 * extension, as require() does).
 */
import { dynamicImport } from "../shared/dynamic-import";

/** The file: URL of an absolute path (POSIX, or Windows with a drive letter). */
function fileUrlOf(path: string): string {
  const posix = path.replace(/\\/g, "/");
  const url = new URL("file://");
  url.pathname = posix.startsWith("/") ? posix : `/${posix}`;
  return url.href;
}

const isAbsolutePath = (name: string) => name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name);

/** Loads `moduleName` (absolute path, file: URL or package name); the caller has refused relative paths. */
export function importModule(moduleName: string): Promise<Record<string, unknown>> {
  return dynamicImport(isAbsolutePath(moduleName) ? fileUrlOf(moduleName) : moduleName);
}
