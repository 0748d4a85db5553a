// `npm run lint` (with prettier --check and tsc). Formatting is prettier's job, so no rule here is about layout.
// The dependency rules at the end are the architecture (docs/architecture.md): src/ is the runtime-free core,
// adapters/shared/ is what several runtimes share without importing one, each adapters/<runtime>/ sees only the
// core, the shared folder and itself, and cli/ composes them. A change that breaks the layering fails here.
import { readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import globals from "globals";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";
import { ENTRIES } from "./tools/entries.mjs";

const TS = ["**/*.ts", "**/*.mts", "**/*.cts"];
/** What each runtime adapter may use besides src/, adapters/shared/ and its own folder. */
const RUNTIMES = {
  node: { nodeModules: true, clients: [] },
  deno: { nodeModules: true, clients: [] },
  ioredis: { nodeModules: true, clients: ["ioredis"] },
  upstash: { nodeModules: false, clients: ["@upstash/redis"] },
  opentelemetry: { nodeModules: false, clients: ["@opentelemetry/api"] },
};
const CLIENTS = ["ioredis", "@upstash/redis", "@opentelemetry/api"];
/** Every folder of adapters/, so that a new one is kept to itself, src/ and adapters/shared/ from its first file. */
const ADAPTERS = readdirSync(new URL("./adapters", import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** tsup's entry files: each composes the core with its adapters, so only they may import several adapter folders. */
const ENTRY_FILES = Object.values(ENTRIES);
const CORE_ZONE = { target: "./src", from: ["./adapters", "./cli"], message: "src/ is the runtime-free core: it imports nothing from adapters/ or cli/" };
const CLI_ZONE = { target: "./adapters", from: "./cli", message: "adapters/ never import cli/" };

const NO_NODE = "use no Node module here: only adapters/node/, adapters/deno/ and adapters/ioredis/ may";
const nodeBuiltins = builtinModules.filter((m) => !m.startsWith("_")).map((name) => ({ name, message: NO_NODE }));
const clientPatterns = (names) => names.map((name) => ({ regex: `^${name.replace("/", "\\/")}(/|$)`, message: `${name} is imported by its own adapter only` }));
/** no-restricted-imports for a folder: no Node module unless `nodeModules`, no client library but `clients`. */
const restrictedImports = ({ nodeModules, clients }) => [
  "error",
  {
    paths: nodeModules ? [] : nodeBuiltins,
    patterns: [...(nodeModules ? [] : [{ regex: "^node:", message: NO_NODE }]), ...clientPatterns(CLIENTS.filter((c) => !clients.includes(c)))],
  },
];
/** no-restricted-imports does not see import(): the same ban on node:* for dynamic imports. */
const noDynamicNode = ["error", { selector: "ImportExpression[source.value=/^node:/]", message: NO_NODE }];

export default defineConfig(
  {
    ignores: ["**/node_modules/", "**/dist/", "docs/api/", "coverage/", ".tmp/", "**/.next/", "**/.wrangler/", "examples/nextjs/next-env.d.ts"],
  },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: { ...globals.node } },
    rules: {
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": ["error", { destructuring: "all" }],
      // One rule for JavaScript and TypeScript files (the core rule cannot see type-only uses); `_x` is unused on purpose.
      "no-unused-vars": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
      // Lua and RESP text hold control characters on purpose.
      "no-control-regex": "off",
    },
  },
  {
    // CommonJS on purpose: the seed's example and the fixtures of CommonJS users.
    files: ["**/*.cjs", "test/migration/fixtures/jest-project/*.js", "test/support/fixtures/cjs-scope/*.js"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: TS,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Type-aware: the bugs a type checker alone lets through.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // `interface Heartbeater extends Heartbeat {}` names a type for code written against the original API.
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
    },
  },
  {
    files: ["examples/deno/**", "test/matrix/smoke/deno.mjs"],
    languageOptions: { globals: { Deno: "readonly" } },
  },
  {
    files: [
      "examples/cloudflare-worker/**",
      "chaos/edge-worker.mjs",
      "test/edge/fixtures/**",
      "test/matrix/smoke/workerd.mjs",
      "test/matrix/smoke/edge-runtime.mjs",
    ],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
  {
    files: ["test/matrix/smoke/bun.ts", "test/matrix/smoke/bun-fake-timers.test.mjs"],
    languageOptions: { globals: { Bun: "readonly" } },
  },

  // Dependency direction. import-x resolves each import, so a zone holds however deep a file sits, type imports included.
  {
    files: ["src/**", "adapters/**", "cli/**"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".mts", ".cts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"] })],
    },
    rules: {
      // A rule below cannot see through an import it cannot resolve.
      "import-x/no-unresolved": ["error", { ignore: ["^npm:", "^jsr:"] }],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-self-import": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            CORE_ZONE,
            ...ADAPTERS.map((name) => ({
              target: `./adapters/${name}`,
              from: "./adapters",
              except: [...new Set([`./${name}`, "./shared"])],
              message: `adapters/${name}/ imports only src/, adapters/shared/ and itself (what two runtimes share goes to adapters/shared/, which imports no runtime)`,
            })),
            CLI_ZONE,
          ],
        },
      ],
    },
  },
  {
    // An entry composes the core with the adapters of its runtime (the Node entry: node + ioredis).
    files: ENTRY_FILES,
    rules: { "import-x/no-restricted-paths": ["error", { zones: [CORE_ZONE, CLI_ZONE] }] },
  },
  {
    files: ["src/**", "adapters/shared/**"],
    rules: { "no-restricted-imports": restrictedImports({ nodeModules: false, clients: [] }), "no-restricted-syntax": noDynamicNode },
  },
  ...Object.entries(RUNTIMES).map(([name, runtime]) => ({
    files: [`adapters/${name}/**`],
    rules: { "no-restricted-imports": restrictedImports(runtime), ...(runtime.nodeModules ? {} : { "no-restricted-syntax": noDynamicNode }) },
  })),
  {
    // The clock and timers as they were when pulselock loaded (src/timers.ts): a test's fake timers must not stop them.
    files: ["src/**", "adapters/**"],
    ignores: ["src/timers.ts", "adapters/node/hrtime.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        ...["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "queueMicrotask", "performance"].map((name) => ({
          name,
          message: "use src/timers.ts (setTimer, clearTimer, microtask, monotonicNow): taken when pulselock loads, fake timers do not stop them",
        })),
      ],
      "no-restricted-properties": ["error", { object: "process", property: "hrtime", message: "use adapters/node/hrtime.ts" }],
    },
  },
);
