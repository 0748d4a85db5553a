// The Bun and Deno examples, from the temp project (so they use the installed
// tarball): each is type-checked, then run twice at once: the first run takes
// the job, the second, started while the first holds it, must skip it.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runCommand } from "./process-runner.mjs";

/** Starts a run, resolves once it printed `event`; `done` resolves with all its events and its exit code. */
function startRun(command, { cwd, env }) {
  const child = spawn(command[0], command.slice(1), { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const events = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const waiters = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const done = new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      for (const w of waiters) w();
      resolve({ code, events, stderr });
    }),
  );
  const seen = (event) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (events.some((e) => e.event === event)) resolve();
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`exited before "${event}": ${stderr.slice(-2000)}`));
      };
      waiters.push(check);
      check();
    });
  return { seen, done };
}

async function checkExample({ name, typecheck, command, cwd, env }) {
  const result = { name, typecheck: false, run: false, ok: false, error: null };
  const checked = await runCommand(typecheck, { cwd, env });
  result.typecheck = checked.code === 0;
  if (!result.typecheck) result.error = `type-check failed:\n${checked.stdout}${checked.stderr}`.slice(-4000);
  try {
    const runEnv = { ...env, BATCHES: "15", BATCH_MS: "200" };
    const first = startRun(command, { cwd, env: runEnv });
    await first.seen("started");
    const second = await startRun(command, { cwd, env: runEnv }).done;
    const firstDone = await first.done;
    const ran = firstDone.events.find((e) => e.event === "ran");
    const skipped = second.events.find((e) => e.event === "skipped");
    result.run = firstDone.code === 0 && second.code === 0 && ran?.batches === 15 && skipped !== undefined;
    if (!result.run) {
      result.error =
        `${result.error ?? ""}\nrun: first ${JSON.stringify(firstDone.events)} (exit ${firstDone.code}) ${firstDone.stderr.slice(-2000)}` +
        `\nsecond ${JSON.stringify(second.events)} (exit ${second.code}) ${second.stderr.slice(-2000)}`;
    }
  } catch (error) {
    result.error = `${result.error ?? ""}\nrun: ${error?.stack ?? error}`;
  }
  result.ok = result.typecheck && result.run;
  return result;
}

export async function runExamples({ root, project, bin, env }) {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  return [
    await checkExample({
      name: "bun",
      typecheck: [bin.node20, tsc, "-p", "examples/bun/tsconfig.json"],
      command: [bin.bun, "examples/bun/nightly-report.ts"],
      cwd: project,
      env,
    }),
    await checkExample({
      name: "deno",
      typecheck: [bin.deno, "check", "--node-modules-dir=manual", "examples/deno/nightly-report.ts"],
      command: [bin.deno, "run", "-A", "--node-modules-dir=manual", "examples/deno/nightly-report.ts"],
      cwd: project,
      env,
    }),
  ];
}
