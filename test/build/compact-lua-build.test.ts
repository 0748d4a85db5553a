import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { LUA_RECORD_LAYOUT } from "../../src/lock-record";
import { LUA_CLAIM } from "../../src/lua-claim";
import { LUA_RAISE_FLAG } from "../../src/wait-flag-key";
import { ACQUIRE } from "../../src/scripts/acquire";
import { ACQUIRE_ALL } from "../../src/scripts/acquire-all";
import { EXTEND } from "../../src/scripts/extend";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";

/**
 * The build compacts the Lua literals ahead of time (tools/compact-lua-plugin.mjs):
 * dist/ carries the same text as src/ compacts at load, so the same SHA1, and
 * none of the readable text's comments. dist/ is built by npm test first.
 */
const dist = fileURLToPath(new URL("../../dist/", import.meta.url));
const src = fileURLToPath(new URL("../../src/", import.meta.url));
const built = readdirSync(dist)
  .filter((f) => f.endsWith(".js") || f.endsWith(".cjs"))
  .map((f) => readFileSync(dist + f, "utf8"));
const shipped = built.join("\n");

/** The comment lines of the readable Lua in src/ (every line of a compactLua(`…`) literal that starts with "--"). */
function readableComments(): string[] {
  const files = ["lock-record.ts", "lua-claim.ts", "wait-flag-key.ts", ...readdirSync(`${src}scripts`).map((f) => `scripts/${f}`)];
  const literals = files.flatMap((f) => [...readFileSync(src + f, "utf8").matchAll(/compactLua\(`([^`]*)`\)/g)].map((m) => m[1]!));
  return literals.flatMap((text) => text.split("\n").map((line) => line.trim())).filter((line) => line.startsWith("--"));
}

it("dist/ holds each script's text exactly as src/ sends it, with its SHA1", () => {
  const spliced = [LUA_RECORD_LAYOUT, LUA_CLAIM, LUA_RAISE_FLAG];
  for (const piece of spliced) expect(shipped).toContain(piece);
  for (const script of [ACQUIRE, ACQUIRE_ALL, EXTEND, READ, RELEASE, REMOVE, REPORT]) {
    // A script carries the shared pieces it splices in (the record layout, the claim) as interpolations, each on
    // lines of its own; the literal text around them must be in dist/ as it is.
    let own = [script.source];
    for (const piece of spliced) own = own.flatMap((part) => part.split(`${piece}\n`));
    own = own.filter((part) => part.length > 0);
    for (const format of [".js", ".cjs"]) {
      const files = readdirSync(dist)
        .filter((f) => f.endsWith(format))
        .map((f) => readFileSync(dist + f, "utf8"));
      expect(
        files.some((text) => own.every((part) => text.includes(part)) && text.includes(script.sha)),
        `${script.name} in dist/*${format}`,
      ).toBe(true);
    }
  }
});

it("no comment of the readable Lua reaches dist/", () => {
  const comments = readableComments();
  expect(comments.length).toBeGreaterThan(20);
  expect(comments.filter((line) => shipped.includes(line))).toEqual([]);
});
