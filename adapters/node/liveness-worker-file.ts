/*
 * Finds the liveness thread's file, also when pulselock was bundled into an
 * app (Next.js with webpack or Turbopack): the file then no longer sits next
 * to the code that spawns it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LivenessError } from "../../src/errors";

/**
 * Names built at run time, out of reach of bundlers' constant folding.
 * Bundlers rewrite `new URL("./x.js", import.meta.url)` (webpack into a public
 * asset URL such as /_next/static/media/…, Turbopack into a copy under
 * .next/server/assets that has lost its package's "type": "module" and its
 * chunks), and neither runs as a worker_threads file; they also fold a
 * constant name into that form, and turn require.resolve() of a literal into
 * a module id.
 */
const WORKER_FILE = ["liveness-worker", "js"].join(".");
const MANIFEST = ["pulselock", "package.json"].join("/");

/** Where the liveness thread's code is: next to this module, else in the pulselock package the app has installed. */
export function livenessWorkerFile(): URL {
  const tried: string[] = [];
  const beside = besideThisModule();
  if (beside) {
    if (existsSync(beside)) return pathToFileURL(beside);
    tried.push(beside);
  }
  try {
    // Bundled: the package is still installed in the app's node_modules (next start and next dev run there).
    const manifest = createRequire(join(process.cwd(), "package.json")).resolve(MANIFEST);
    const installed = join(dirname(manifest), "dist", WORKER_FILE);
    if (existsSync(installed)) return pathToFileURL(installed);
    tried.push(installed);
  } catch {
    tried.push(`${MANIFEST} from ${process.cwd()}`);
  }
  throw new LivenessError(
    `pulselock: cannot find the liveness thread's file ${WORKER_FILE} (tried ${tried.join(", ")}). ` +
      "A bundler moved pulselock's code away from it: keep pulselock out of the server bundle " +
      '(Next.js: serverExternalPackages: ["pulselock"] in next.config; webpack: externals), ' +
      "or run the app from a directory whose node_modules has pulselock installed",
  );
}

function besideThisModule(): string | undefined {
  try {
    return join(dirname(fileURLToPath(import.meta.url)), WORKER_FILE);
  } catch {
    return undefined; // import.meta.url is not a file: URL in this bundle
  }
}
