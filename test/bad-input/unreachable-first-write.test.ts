import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../support/child-process";

/*
 * An idle in-isolate Locker (pulselock/core) whose first liveness write cannot reach Redis: the write goes out with
 * the call, and the client's early failure rejects the write while the call itself is still out. Found by an attack
 * pass: the caller caught the call's error, yet the write's rejection was left unhandled and plain Node exited with
 * code 1 (edge-runtime fired `unhandledrejection`). Run as a plain `node` program, as a user runs it.
 */
function run(kind: string, endpoint: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [fixturePath("first-write-unreachable.mjs"), kind, endpoint], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (c: Buffer) => (stdout += c));
  proc.stderr.on("data", (c: Buffer) => (stderr += c));
  return new Promise((resolve) => proc.once("close", (code) => resolve({ code, stdout, stderr })));
}

describe.each(["lock", "permit", "set"])("pulselock/core, the first write of a %s's call cannot reach Redis", (kind) => {
  it.each(["silent", "closed"])(
    "endpoint %s: the caller gets the error and nothing is left unhandled",
    async (endpoint) => {
      const { code, stdout, stderr } = await run(kind, endpoint);
      expect(stderr).not.toMatch(/unhandled|PromiseRejection/i);
      expect(code, stderr).toBe(0);
      const done = JSON.parse(stdout.trim().split("\n").at(-1)!) as { rejected?: string; code?: string };
      expect(done.rejected).toBe("RedisCommandError");
    },
    60_000,
  );
});
