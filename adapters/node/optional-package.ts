/*
 * Loads an optional peer dependency if it is installed, without a static
 * import: a bundler (Next.js, esbuild) must not try to bundle a package the
 * application may not have, and a process without it must load nothing.
 */
import { createRequire } from "node:module";

/**
 * The package `name` as require() finds it from pulselock's own location, or
 * undefined when it is not installed. Any other failure (a broken install)
 * throws: it should not pass for "not installed".
 */
export function requireOptional(name: string): unknown {
  // The CommonJS build's own require (jest's, under jest); the ESM build's made from its URL.
  const load =
    typeof module === "object" && module !== null && typeof module.require === "function" ? module.require.bind(module) : createRequire(import.meta.url);
  try {
    return load(name);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if ((code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") && String((error as Error).message).includes(`'${name}'`)) return undefined;
    throw error;
  }
}
