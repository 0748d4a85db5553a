// @ts-check
// Starts one member of an example fleet: a child process that reports its
// events to the runner over IPC and shares the runner's stdout.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * @param {URL} script the member's module
 * @param {Record<string, string>} env added to this process's environment
 * @param {(event: any) => void} onEvent each message the member sends
 * @returns {{ child: import("node:child_process").ChildProcess, exited: Promise<{ code: number | null, signal: string | null }> }}
 */
export function forkMember(script, env, onEvent) {
  const child = fork(fileURLToPath(script), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, ...env } });
  child.on("message", onEvent);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited };
}
