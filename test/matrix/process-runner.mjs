// Runs one smoke script under one runtime binary in the temp project and reads
// back its MATRIX_RESULT line.
import { spawn } from "node:child_process";

const RUN_TIMEOUT_MS = 180_000;
/** How long a smoke process may take to exit after printing its result: nothing may keep it alive. */
const EXIT_AFTER_RESULT_MS = 15_000;

/**
 * Runs [command, ...args] in `cwd` with `env`; resolves with exit code, stdout and stderr (never rejects).
 * Once stdout contains `exitAfter`, the process must exit within EXIT_AFTER_RESULT_MS (`lingered` otherwise).
 */
export function runCommand([command, ...args], { cwd, env = {}, timeoutMs = RUN_TIMEOUT_MS, exitAfter }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let lingered = false;
    let lingerTimer;
    child.stdout.on("data", (d) => {
      stdout += d;
      if (exitAfter && !lingerTimer && stdout.includes(exitAfter)) {
        lingerTimer = setTimeout(() => {
          lingered = true;
          child.kill("SIGKILL");
        }, EXIT_AFTER_RESULT_MS);
      }
    });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      clearTimeout(lingerTimer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lingerTimer);
      resolve({ code: code ?? signal, stdout, stderr, lingered, timedOut: signal === "SIGKILL" && !lingered });
    });
  });
}

/** Runs a process smoke script; returns its result row, or a failed row that says why. */
export async function runProcessSmoke({ label, format, command, cwd, env }) {
  const started = performance.now();
  const out = await runCommand(command, { cwd, env, exitAfter: "MATRIX_RESULT " });
  const line = out.stdout.split("\n").find((l) => l.startsWith("MATRIX_RESULT "));
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  if (!line) {
    const why = out.timedOut ? "timed out" : `exited with ${out.code} and no result`;
    return { runtime: label, version: "?", format, ok: false, error: `${why}\n${out.stderr.slice(-4000)}\n${out.stdout.slice(-2000)}`, seconds };
  }
  const row = JSON.parse(line.slice("MATRIX_RESULT ".length));
  row.exits = out.code === 0;
  if (!row.exits) {
    row.ok = false;
    const why = out.lingered
      ? `still running ${EXIT_AFTER_RESULT_MS} ms after its result (something keeps it alive)`
      : `exited with ${out.code} after its result`;
    row.error = `${row.error ?? ""}\n${why}\n${out.stderr.slice(-4000)}`;
  }
  return { ...row, seconds };
}
