import { spawn } from "node:child_process";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempProject } from "../matrix/temp-project.mjs";
import { startRedis } from "../support/redis-server.mjs";

/*
 * Every complete program in the README is a file in examples/readme/, shown
 * there verbatim, and runs as a user runs it: copied into a fresh project that
 * installed the packed package (not this source tree), against a spawned
 * redis-server whose URL fills the REDIS_URL placeholder. Each must print its
 * result and then exit by itself, within 2 s (a client or thread left open
 * would keep it running).
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = join(root, "examples/readme");
const readme = readFileSync(join(root, "README.md"), "utf8");
const programs = readdirSync(dir).filter((f) => /\.(mjs|ts)$/.test(f));

/** The README's fenced code blocks: language and text. */
const blocks = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));

describe("the README's programs are files in examples/readme, shown verbatim", () => {
  it.each(programs)("%s appears in the README exactly as in the file", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    const shown = blocks.filter((b) => b.text.startsWith(`// ${file} `));
    expect(shown.length, `README has no code block starting with "// ${file} "`).toBe(1);
    expect(shown[0]!.text).toBe(text);
  });

  it("every README block that is a complete program (imports pulselock, makes a Locker, is not a platform's handler module) is one of them", () => {
    const complete = blocks.filter(
      (b) => /from "pulselock/.test(b.text) && /new Locker\(/.test(b.text) && !/^export (default|async function|const runtime)/m.test(b.text),
    );
    expect(complete.length).toBeGreaterThanOrEqual(4);
    for (const b of complete)
      expect(
        programs.some((file) => b.text.startsWith(`// ${file} `)),
        b.text.slice(0, 200),
      ).toBe(true);
  });

  it("they type-check as a user's project does: moduleResolution node16, JavaScript included", async () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const out = await promisify(execFile)(process.execPath, [tsc, "-p", "examples/readme/tsconfig.json"], { cwd: root, timeout: 120_000 }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );
    expect(out.stdout).toBe("");
  }, 180_000);
});

describe("the README's programs run against a local Redis and exit by themselves", () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  let project: Awaited<ReturnType<typeof createTempProject>>;
  beforeAll(async () => {
    [server, project] = await Promise.all([startRedis(), createTempProject(root, [["examples/readme", "readme"]])]);
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });

  /** Runs a program; resolves with its output, exit code, and how long it took to exit after its last output. */
  function runProgram(command: string[]) {
    return new Promise<{ out: string; code: number | null; exitAfterOutputMs: number }>((resolve, reject) => {
      const child = spawn(command[0]!, command.slice(1), {
        cwd: join(project.project, "readme"),
        env: { ...process.env, REDIS_URL: server.url, NO_COLOR: "1" },
      });
      let out = "";
      let lastOutput = performance.now();
      const onData = (d: Buffer) => {
        out += d;
        lastOutput = performance.now();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ out, code, exitAfterOutputMs: performance.now() - lastOutput });
      });
    });
  }

  const cases: Array<[string, (bin: typeof project.bin) => string[], RegExp]> = [
    ["quick-start.mjs (Node)", (bin) => [bin.node20, "quick-start.mjs"], /^report built\n$/],
    ["worker.mjs with db.mjs (Node, database module reference)", (bin) => [bin.node20, "worker.mjs"], /^synced 3 batches\n$/],
    ["transfer.mjs (Node, multi-key lock)", (bin) => [bin.node20, "transfer.mjs"], /^moved 10 from alice to bob\n$/],
    [
      "semaphore.mjs (Node)",
      (bin) => [bin.node20, "semaphore.mjs"],
      /^(export \d runs with [123] permits held\n){5}5 exports done, at most 3 at once; tokens increase: true\n$/,
    ],
    ["bun-job.ts (Bun)", (bin) => [bin.bun, "bun-job.ts"], /^reindexed\n$/],
    [
      "deno-job.ts (Deno)",
      (bin) => [bin.deno, "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", "--node-modules-dir=manual", "deno-job.ts"],
      /^reindexed\n$/,
    ],
  ];
  it.each(cases)(
    "%s prints its result and exits within 2 s of it",
    async (_label, command, expected) => {
      const r = await runProgram(command(project.bin));
      expect(r.out).toMatch(expected);
      expect(r.code).toBe(0);
      expect(r.exitAfterOutputMs).toBeLessThan(2000);
    },
    90_000,
  );

  it("every program in examples/readme runs here (none is left out)", () => {
    const run = cases.map(([label]) => label.split(" ")[0]);
    expect(programs.filter((f) => f !== "db.mjs").sort()).toEqual(run.sort());
  });
});
