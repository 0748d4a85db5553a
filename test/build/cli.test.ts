import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/*
 * The `pulselock` command as npx runs it: the package's bin (dist/cli.js),
 * and its CommonJS build. Help and version go to stdout with exit code 0;
 * an unknown command goes to stderr with the help and exit code 2.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string; bin: Record<string, string> };
const bins = [pkg.bin.pulselock!, "dist/cli.cjs"];

function cli(bin: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(bins)("pulselock command (%s)", (bin) => {
  it.each([["--help"], ["-h"], ["help"]])("%s prints the commands to stdout and exits 0", (flag) => {
    const r = cli(bin, flag);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: pulselock <command>/);
    expect(r.stdout).toContain("upstash-dev");
    expect(r.stdout).toContain("inspect");
    expect(r.stdout).toContain("release");
    expect(r.stdout).toContain("--version");
    expect(r.stderr).toBe("");
  });

  it.each([["--version"], ["-v"], ["version"]])("%s prints the package's version", (flag) => {
    const r = cli(bin, flag);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([
    ["upstash-dev", "--help"],
    ["upstash-dev", "-h"],
    ["help", "upstash-dev"],
  ])("%s %s prints the subcommand's options", (...args) => {
    const r = cli(bin, ...args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: pulselock upstash-dev --redis/);
    expect(r.stdout).toContain("--token");
  });

  it.each([
    ["inspect", "--redis <url>"],
    ["release", "--force"],
  ])("%s --help prints its options to stdout and exits 0", (command, option) => {
    for (const args of [
      [command, "--help"],
      ["help", command],
    ]) {
      const r = cli(bin, ...args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: pulselock ${command} `));
      expect(r.stdout).toContain(option);
      expect(r.stdout).toContain("--upstash-token");
    }
  });

  it("an unknown command, or none, is exit code 2 with the help on stderr", () => {
    for (const args of [["bogus"], [], ["help", "bogus"]]) {
      const r = cli(bin, ...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("usage: pulselock <command>");
    }
    expect(cli(bin, "bogus").stderr).toContain('unknown command "bogus"');
  });
});
