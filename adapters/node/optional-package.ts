/*
 * Loads an optional peer dependency if it can be loaded, without a static
 * import: a bundler (Next.js, esbuild) must not try to bundle a package the
 * application may not have, and a process without it must load nothing.
 */
import { createRequire } from "node:module";

/**
 * The package `name` as require() finds it from pulselock's own location, or
 * undefined when it cannot be loaded: not installed, or inside a bundle whose
 * require() resolves nothing at run time (Next.js's Turbopack and webpack
 * answer "Cannot find module as expression is too dynamic"). What it serves
 * is optional by definition, so no failure here may fail the caller.
 */
export function requireOptional(name: string): unknown {
  try {
    // The CommonJS build's own require (jest's, under jest); the ESM build's made from its URL.
    const load =
      typeof module === "object" && module !== null && typeof module.require === "function" ? module.require.bind(module) : createRequire(import.meta.url);
    return load(name);
  } catch {
    return undefined;
  }
}
