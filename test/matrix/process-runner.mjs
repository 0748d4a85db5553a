// Runs one smoke script under one runtime binary in the temp project and reads
// back its MATRIX_RESULT line.
import { spawn } from "node:child_process";

const RUN_TIMEOUT_MS = 180_000;

/** Runs [command, ...args] in `cwd` with `env`; resolves with exit code, stdout and stderr (never rejects). */
export function runCommand([command, ...args], { cwd, env = {}, timeoutMs = RUN_TIMEOUT_MS }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr, timedOut: signal === "SIGKILL" });
    });
  });
}

/** Runs a process smoke script; returns its result row, or a failed row that says why. */
export async function runProcessSmoke({ label, format, command, cwd, env }) {
  const started = performance.now();
  const out = await runCommand(command, { cwd, env });
  const line = out.stdout.split("\n").find((l) => l.startsWith("MATRIX_RESULT "));
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  if (!line) {
    const why = out.timedOut ? "timed out" : `exited with ${out.code} and no result`;
    return { runtime: label, version: "?", format, ok: false, error: `${why}\n${out.stderr.slice(-4000)}\n${out.stdout.slice(-2000)}`, seconds };
  }
  const row = JSON.parse(line.slice("MATRIX_RESULT ".length));
  if (out.code !== 0) {
    row.ok = false;
    row.error = `${row.error ?? ""}\nexited with ${out.code} after its result (a leaked handle or an unhandled rejection?)\n${out.stderr.slice(-4000)}`;
  }
  return { ...row, seconds };
}
