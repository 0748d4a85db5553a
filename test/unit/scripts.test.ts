import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ACQUIRE } from "../../src/scripts/acquire";
import { ACQUIRE_ALL } from "../../src/scripts/acquire-all";
import { EXTEND } from "../../src/scripts/extend";
import { INSPECT } from "../../src/scripts/inspect";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";
import { SEMAPHORE_ACQUIRE } from "../../src/scripts/semaphore-acquire";
import { SEMAPHORE_EXTEND } from "../../src/scripts/semaphore-extend";
import { SEMAPHORE_READ } from "../../src/scripts/semaphore-read";
import { SEMAPHORE_RELEASE } from "../../src/scripts/semaphore-release";
import type { LuaScript } from "../../src/scripts/script";

const SCRIPTS: Record<string, LuaScript> = {
  acquire: ACQUIRE,
  "acquire-all": ACQUIRE_ALL,
  extend: EXTEND,
  inspect: INSPECT,
  read: READ,
  release: RELEASE,
  remove: REMOVE,
  report: REPORT,
  "semaphore-acquire": SEMAPHORE_ACQUIRE,
  "semaphore-extend": SEMAPHORE_EXTEND,
  "semaphore-read": SEMAPHORE_READ,
  "semaphore-release": SEMAPHORE_RELEASE,
};

const sha1 = (text: string) => createHash("sha1").update(text, "utf8").digest("hex");

describe("Lua scripts", () => {
  it("covers every script module in src/scripts/", () => {
    const dir = fileURLToPath(new URL("../../src/scripts/", import.meta.url));
    const modules = readdirSync(dir)
      .filter((f) => f.endsWith(".ts") && f !== "script.ts")
      .map((f) => f.slice(0, -3))
      .sort();
    expect(modules).toEqual(Object.keys(SCRIPTS).sort());
  });

  for (const [file, script] of Object.entries(SCRIPTS)) {
    describe(file, () => {
      it("is named after its file", () => {
        expect(script.name).toBe(file);
      });

      it("has sha = sha1(source)", () => {
        expect(script.sha).toMatch(/^[0-9a-f]{40}$/);
        expect(script.sha).toBe(sha1(script.source));
      });

      it("has no template interpolation in its source", () => {
        expect(script.source).not.toContain("${");
        expect(script.source.length).toBeGreaterThan(0);
      });

      it("is plain ASCII (its SHA is over UTF-8 bytes, and MONITOR shows any other byte escaped)", () => {
        expect(script.source).toMatch(/^[\x09\x0a\x20-\x7e]+$/);
      });

      it("reads user data only through KEYS and ARGV", () => {
        // Every redis.call()/pcall() names its key as KEYS[…], directly or through a local bound to KEYS[…];
        // no literal key is baked in. Whatever the spacing around "=", "(" and ",".
        const keyLocals = [...script.source.matchAll(/(?:local\s+)?(\w+)\s*=\s*KEYS\s*\[/g)].map((m) => m[1]!);
        // A local function's first parameter is a key when every call passes one (raiseFlag(KEYS[k + 1], ms)).
        for (const [, fn, param] of script.source.matchAll(/local\s+function\s+(\w+)\s*\(\s*(\w+)/g)) {
          const args = [...script.source.matchAll(new RegExp(`\\b${fn}\\s*\\(\\s*([^,)]+)`, "g"))].map((c) => c[1]!.trim()).filter((a) => a !== param);
          if (args.length > 0 && args.every((a) => /^KEYS\s*\[[\w*+\-# ]+\]$/.test(a) || keyLocals.includes(a))) keyLocals.push(param!);
        }
        const calls = [...script.source.matchAll(/redis\s*\.\s*p?call\s*\(\s*'(\w+)'\s*,\s*([^,)]+)/g)];
        expect(calls.length).toBeGreaterThan(0);
        // Every call is seen: one that names its key, or one without arguments (TIME).
        const bare = [...script.source.matchAll(/redis\s*\.\s*p?call\s*\(\s*'\w+'\s*\)/g)];
        expect(calls.length + bare.length).toBe([...script.source.matchAll(/redis\s*\.\s*p?call\s*\(/g)].length);
        // A table of keys (for a many-key command, through unpack()) holds only KEYS[…] and key locals.
        const keyTables = new Set(["KEYS"]);
        for (const [, table] of script.source.matchAll(/local\s+(\w+)\s*=\s*\{\}/g)) {
          const entries = [...script.source.matchAll(new RegExp(`\\b${table}\\s*\\[[^\\]]+\\]\\s*=\\s*([^\\n]+)`, "g"))].map((e) => e[1]!.trim());
          if (entries.length > 0 && entries.every((e) => /^KEYS\s*\[[\w*+\-# ]+\]$/.test(e) || keyLocals.includes(e))) keyTables.add(table!);
        }
        for (const m of calls) {
          const key = m[2]!.trim();
          const unpacked = /^unpack\s*\(\s*(\w+)\s*$/.exec(key)?.[1];
          expect(/^KEYS\s*\[[\w*+\-# ]+\]$/.test(key) || keyLocals.includes(key) || (unpacked !== undefined && keyTables.has(unpacked)), m[0]).toBe(true);
        }
      });
    });
  }

  it("all SHAs are distinct", () => {
    const shas = Object.values(SCRIPTS).map((s) => s.sha);
    expect(new Set(shas).size).toBe(shas.length);
  });
});
