import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built `pulselock` bin, as npx runs it. */
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin in a child process (the Upstash variables of this process cleared unless given in `env`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, UPSTASH_REDIS_REST_URL: "", UPSTASH_REDIS_REST_TOKEN: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    proc.on("error", reject);
    proc.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}
