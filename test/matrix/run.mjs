// The runtime matrix (`npm run matrix`): packs pulselock, installs the tarball
// into a temp project with pinned runtimes and clients, starts a redis-server
// (and the Upstash REST server in front of it), runs the same smoke test on
// every runtime, type-checks and runs the Bun and Deno examples, and prints a
// runtime × result table.
//
//   node test/matrix/run.mjs [--only id,id] [--json FILE] [--write-docs] [--keep]
//
// Needs a built dist/ (the npm script builds first). Exits 1 when a row fails.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { runEdgeRuntime, runWorkerd } from "./edge-runner.mjs";
import { runExamples } from "./examples.mjs";
import { runOps } from "./ops.mjs";
import { runCommand, runProcessSmoke } from "./process-runner.mjs";
import { startServices } from "./services.mjs";
import { markdownTable, textTable, writeTableInto } from "./table.mjs";
import { createTempProject } from "./temp-project.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const { values: args } = parseArgs({
  options: { only: { type: "string" }, json: { type: "string" }, "write-docs": { type: "boolean" }, keep: { type: "boolean" } },
});
const only = args.only ? new Set(args.only.split(",")) : undefined;
const wanted = (id) => !only || only.has(id);
const log = (line) => process.stderr.write(`matrix: ${line}\n`);

log("packing and installing into a temp project");
const temp = await createTempProject(root, [
  ["test/matrix/smoke", "smoke"],
  ["examples/bun", "examples/bun"],
  ["examples/deno", "examples/deno"],
]);
const { bin, project } = temp;
const services = await startServices(project);
const env = {
  REDIS_URL: services.redis.url,
  UPSTASH_REDIS_REST_URL: services.rest.url,
  UPSTASH_REDIS_REST_TOKEN: services.rest.token,
  DENO_NO_UPDATE_CHECK: "1",
  DO_NOT_TRACK: "1",
  NO_COLOR: "1",
};
const deno = [bin.deno, "run", "-A", "--node-modules-dir=manual"];

const processRuns = [
  { id: "node20-esm", label: "node 20", format: "ESM", command: [bin.node20, "smoke/node.mjs"] },
  { id: "node20-cjs", label: "node 20", format: "CJS", command: [bin.node20, "smoke/node.cjs"] },
  { id: "node22-esm", label: "node 22", format: "ESM", command: [bin.node22, "smoke/node.mjs"] },
  { id: "node22-cjs", label: "node 22", format: "CJS", command: [bin.node22, "smoke/node.cjs"] },
  { id: "bun", label: "bun", format: "ESM (TS)", command: [bin.bun, "smoke/bun.ts"] },
  { id: "deno", label: "deno", format: "ESM", command: [...deno, "smoke/deno.mjs"] },
  // The Node entry works on Deno too (a user may import it): worker_threads on Deno's polyfill.
  { id: "deno-node-entry", label: "deno", format: "ESM", command: [...deno, "smoke/deno.mjs"], env: { PULSELOCK_SMOKE_ENTRY: "pulselock/node" } },
];

const rows = [];
const exampleRows = [];
const opsRows = [];
/** The test runners users run their own tests with, where they reach into pulselock (fake timers): { name, ok, error }. */
const testRunnerRows = [];
try {
  for (const r of processRuns.filter((r) => wanted(r.id))) {
    log(`running ${r.id}`);
    rows.push({ id: r.id, ...(await runProcessSmoke({ ...r, cwd: project, env: { ...env, ...r.env } })) });
  }
  if (wanted("workerd")) {
    log("running workerd");
    rows.push({ id: "workerd", ...(await runWorkerd(project, services.rest)) });
  }
  if (wanted("edge-runtime")) {
    log("running edge-runtime");
    rows.push({ id: "edge-runtime", ...(await runEdgeRuntime(project, services.rest)) });
  }
  if (wanted("examples")) {
    log("type-checking and running the examples");
    exampleRows.push(...(await runExamples({ root, project, bin, env })));
  }
  if (wanted("test-runners")) {
    log("running bun test with fake timers");
    const out = await runCommand([bin.bun, "test", "smoke/bun-fake-timers.test.mjs"], { cwd: project, env });
    const ok = out.code === 0;
    testRunnerRows.push({ name: "bun test, fake timers", ok, error: ok ? null : `exit ${out.code}\n${out.stdout}${out.stderr}`.slice(-4000) });
  }
  if (wanted("ops")) {
    log("running pulselock inspect and release, and pulselock/opentelemetry, on node, bun and deno");
    opsRows.push(...(await runOps({ project, bin, env })));
  }
} finally {
  await services.close();
  if (!args.keep) rmSync(temp.dir, { recursive: true, force: true });
  else log(`kept ${temp.dir}`);
}

console.log(`\n${textTable(rows)}\n`);
for (const e of exampleRows) console.log(`example ${e.name}: type-check ${e.typecheck ? "✓" : "✗"}, run ${e.run ? "✓" : "✗"} ${e.ok ? "PASS" : "FAIL"}`);
for (const o of opsRows)
  console.log(
    `ops ${o.id}: inspect ${o.inspect ? "✓" : "✗"}, release refused while alive ${o.refused ? "✓" : "✗"}, released when dead ${o.released ? "✓" : "✗"}, opentelemetry ${o.otel ? "✓" : "✗"} ${o.ok ? "PASS" : "FAIL"}`,
  );
for (const t of testRunnerRows) console.log(`${t.name}: ${t.ok ? "PASS" : "FAIL"}`);
for (const r of [...rows, ...exampleRows, ...opsRows, ...testRunnerRows].filter((r) => !r.ok)) console.log(`\n--- ${r.id ?? r.name} failed:\n${r.error}`);

if (args.json) writeFileSync(args.json, JSON.stringify({ rows, examples: exampleRows, ops: opsRows, testRunners: testRunnerRows }, null, 2));
if (args["write-docs"]) {
  const note = `Last run: ${new Date().toISOString().slice(0, 10)}, \`npm run matrix\` on Linux x64 (2 cores, shared; takeover times are noisy).`;
  for (const file of ["docs/runtime-matrix.md", "README.md"]) writeTableInto(join(root, file), markdownTable(rows), note);
  log("wrote the table into docs/runtime-matrix.md and README.md");
}
process.exitCode = [...rows, ...exampleRows, ...opsRows, ...testRunnerRows].every((r) => r.ok) && rows.length > 0 ? 0 : 1;
