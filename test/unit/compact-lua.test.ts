import { describe, expect, it } from "vitest";
import { LUA_RECORD_LAYOUT } from "../../src/lock-record";
import { ACQUIRE } from "../../src/scripts/acquire";
import { EXTEND } from "../../src/scripts/extend";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";
import { compactLua } from "../../src/scripts/script";
import { compactTemplate } from "../../tools/compact-lua-plugin.mjs";

const SCRIPTS = [ACQUIRE, EXTEND, READ, RELEASE, REMOVE, REPORT];

/** Lua texts with every construct compactLua() must get right. */
const SAMPLES = [
  "local a = 1 -- trailing comment\n  -- a comment line\n\n    return a",
  "local s = 'a -- not a comment' -- but this is\nreturn s",
  'local s = "say \\"--\\" here" .. \'it\\\'s -- still a string\'\nreturn s',
  "local s = [[\n  -- kept: inside a long string\n    indented  \n]]\nreturn s",
  "local s = [==[ ]] -- still inside ]=] ]==] -- gone\nreturn s",
  "local a --[[ a block comment ]] = 1\nreturn a",
  "local a = 1 --[==[ a block\ncomment over ]] lines ]==] local b = 2\nreturn a + b",
  "--[[ leading block ]] local c = 3\nreturn c",
  "local d = 4 ---[[ a line comment, not a block\nreturn d",
  "\tlocal t = {1, 2}\r\n\treturn #t  \r\n",
  "local x = 5 - -1\nreturn x",
  "local s = 'a\\\n    b'\nreturn s",
];

/** The lines that hold code, as they should come out: comments removed (by hand, per sample), blanks trimmed. */
const EXPECTED = [
  "local a = 1\nreturn a",
  "local s = 'a -- not a comment'\nreturn s",
  'local s = "say \\"--\\" here" .. \'it\\\'s -- still a string\'\nreturn s',
  "local s = [[\n  -- kept: inside a long string\n    indented  \n]]\nreturn s",
  "local s = [==[ ]] -- still inside ]=] ]==]\nreturn s",
  "local a   = 1\nreturn a",
  "local a = 1\nlocal b = 2\nreturn a + b",
  "local c = 3\nreturn c",
  "local d = 4\nreturn d",
  "local t = {1, 2}\nreturn #t",
  "local x = 5 - -1\nreturn x",
  "local s = 'a\\\n    b'\nreturn s",
];

describe("compactLua", () => {
  it.each(SAMPLES.map((text, i) => [i, text, EXPECTED[i]!]))(
    "sample %i: drops comments, indentation and blank lines, and nothing else",
    (_, text, expected) => {
      expect(compactLua(text)).toBe(expected);
    },
  );

  it("is idempotent", () => {
    for (const text of [...SAMPLES, ...SCRIPTS.map((s) => s.source), LUA_RECORD_LAYOUT]) expect(compactLua(compactLua(text))).toBe(compactLua(text));
  });

  it("keeps every line of code of a script, and the text of every string literal", () => {
    const text = "  local a = 'x' -- one\n\n  -- two\n  if a == '--' then\n    return {a, \"b\"}\n  end";
    expect(compactLua(text).split("\n")).toEqual(["local a = 'x'", "if a == '--' then", 'return {a, "b"}', "end"]);
  });

  it("refuses a string or a long bracket that never closes, rather than guess", () => {
    expect(() => compactLua("local s = 'open\nreturn s")).toThrow(/unfinished string/);
    expect(() => compactLua("local s = [[open")).toThrow(/unfinished long bracket/);
    expect(() => compactLua("--[[ open")).toThrow(/unfinished long bracket/);
  });

  it("every script is sent compact: no comment, no indentation, no blank line, and each string literal as written", () => {
    for (const script of SCRIPTS) {
      expect(compactLua(script.source), script.name).toBe(script.source);
      for (const line of script.source.split("\n")) {
        expect(line, script.name).toMatch(/^\S(.*\S)?$/);
        // Our scripts' strings hold no "--", so any "--" left would be a comment.
        expect(line, script.name).not.toContain("--");
      }
    }
  });

  it("the record layout is compact, so the scripts it is spliced into stay line for line the same at build time and from source", () => {
    expect(compactLua(LUA_RECORD_LAYOUT)).toBe(LUA_RECORD_LAYOUT);
    for (const script of [ACQUIRE, EXTEND, RELEASE]) expect(script.source.startsWith(`${LUA_RECORD_LAYOUT}\n`), script.name).toBe(true);
  });
});

describe("compactTemplate (the build's compaction of a compactLua(`…`) literal)", () => {
  it("compacts the static text like compactLua() and keeps each interpolation in place", () => {
    const raw = "${LAYOUT}\n-- a comment\n  local a = ARGV[1] -- trailing\n  ${MORE}\nreturn a";
    expect(compactTemplate(raw, compactLua, "sample")).toBe("${LAYOUT}\nlocal a = ARGV[1]\n${MORE}\nreturn a");
  });

  it("gives the same text as compactLua() at load, once the interpolations are filled in with compact text", () => {
    const layout = compactLua("-- head\nlocal function f(x)\n  return x -- same\nend\n");
    const raw = "${LAYOUT}\n\n-- step\nlocal y = f('--')\nreturn y";
    const built = compactTemplate(raw, compactLua, "sample").replace("${LAYOUT}", layout);
    expect(built).toBe(compactLua(raw.replace("${LAYOUT}", layout)));
  });

  it("refuses what it cannot carry over exactly: a backslash, or an interpolation inside a comment", () => {
    expect(() => compactTemplate("return '\\n'", compactLua, "sample")).toThrow(/backslash/);
    expect(() => compactTemplate("-- ${X}\nreturn 1", compactLua, "sample")).toThrow(/interpolation was lost/);
  });
});
