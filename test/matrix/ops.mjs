// The operations tools on each runtime, from the installed tarball: the CLI's
// inspect (a live owner), release (refused while the owner lives, done once it
// was SIGKILLed), and pulselock/opentelemetry into the SDK's in-memory readers.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { runCommand } from "./process-runner.mjs";

/** Starts the lock holder (Node, in the project); resolves with its key once it holds it, and a kill(). */
function startHolder({ project, bin, env }) {
  const child = spawn(bin.node20, ["smoke/ops-holder.mjs"], { cwd: project, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`the holder held nothing within 30 s: ${stderr}`))), 30_000);
    child.once("exit", (code) => reject(new Error(`the holder exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      const { key } = JSON.parse(line);
      const exited = new Promise((done) => child.once("exit", done));
      resolve({ key, kill: () => (child.kill("SIGKILL"), exited) });
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One row per runtime: { id, inspect, refused, released, otel, ok, error }. */
export async function runOps({ project, bin, env }) {
  const runtimes = [
    { id: "node", command: [bin.node20] },
    { id: "bun", command: [bin.bun] },
    { id: "deno", command: [bin.deno, "run", "-A", "--node-modules-dir=manual"] },
  ];
  const cli = (runtime, ...args) => runCommand([...runtime.command, "node_modules/pulselock/dist/cli.js", ...args], { cwd: project, env, timeoutMs: 60_000 });
  const rows = runtimes.map(({ id }) => ({ id, inspect: false, refused: false, released: false, otel: false, ok: false, error: null }));
  const fail = (row, what, out) => (row.error ??= `${what}: exit ${out.code}\n${out.stdout}${out.stderr}`.slice(-3000));
  // Inspect and a refused release on every runtime while one holder lives; then each releases a lock of its own, dead.
  const alive = await startHolder({ project, bin, env });
  try {
    for (const [i, runtime] of runtimes.entries()) {
      const row = rows[i];
      const seen = await cli(runtime, "inspect", alive.key, "--redis", env.REDIS_URL, "--json");
      try {
        const lock = JSON.parse(seen.stdout).locks.find((l) => l.key === alive.key);
        row.inspect = seen.code === 0 && lock?.alive === true;
      } catch {
        row.inspect = false;
      }
      if (!row.inspect) fail(row, "inspect did not show the live lock", seen);
      const refused = await cli(runtime, "release", alive.key, "--redis", env.REDIS_URL);
      row.refused = refused.code === 1 && /alive/i.test(refused.stderr + refused.stdout);
      if (!row.refused) fail(row, "release of a live owner's lock was not refused", refused);
    }
  } finally {
    await alive.kill();
  }
  for (const [i, runtime] of runtimes.entries()) {
    const row = rows[i];
    const dead = await startHolder({ project, bin, env });
    await dead.kill();
    // The holder's liveness record lives reportTtlMs (1 s) after its last write.
    let out;
    for (let t = 0; t < 40; t++) {
      out = await cli(runtime, "release", dead.key, "--redis", env.REDIS_URL);
      if (out.code === 0) break;
      await sleep(250);
    }
    const after = await cli(runtime, "inspect", dead.key, "--redis", env.REDIS_URL, "--json");
    row.released = out.code === 0 && after.code === 0 && JSON.parse(after.stdout).locks.length === 0;
    if (!row.released) fail(row, "release of a dead owner's lock", out);
    const otel = await runCommand([...runtime.command, "smoke/ops-otel.mjs"], { cwd: project, env, timeoutMs: 60_000 });
    try {
      row.otel = otel.code === 0 && JSON.parse(otel.stdout.trim().split("\n").pop()).ok === true;
    } catch {
      row.otel = false;
    }
    if (!row.otel) fail(row, "pulselock/opentelemetry", otel);
    row.ok = row.inspect && row.refused && row.released && row.otel;
  }
  return rows;
}
