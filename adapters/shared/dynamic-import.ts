/*
 * A real dynamic import that bundlers cannot see. Bundlers turn `import()`
 * into `require()` in CommonJS output (and require() can load neither a file:
 * URL nor, on Node 20, an ES module), and they fail a build on an import they
 * cannot resolve: an app that uses only @upstash/redis has no ioredis, and
 * pulselock must still build inside it (Next.js, webpack, Turbopack).
 */
export const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;
