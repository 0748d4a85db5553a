import { readFile } from "node:fs/promises";
// An esbuild plugin (tsup.config.ts, bench/edge-size.mjs) that compacts the Lua scripts at build time. In
// src/, a script's text is a readable template literal wrapped in compactLua(`…`), which strips comments and
// indentation when the module loads; the bundle would still carry the readable text. This plugin replaces
// each such call by the literal that it returns: comments never reach the bundle, and the text (so the
// SHA1) is the same as from source. Interpolations (${LUA_RECORD_LAYOUT}) stay interpolations: each
// stands on a line of its own and is compact itself, which compactLua() keeps as it is.

/** compactLua(`…`) in a source file: the template literal's raw text, no backquote inside. */
const CALL = /\bcompactLua\(`([^`]*)`\)/g;
const HOLE = /\$\{([^}]*)\}/g;
/** Stands for an interpolation while the rest is compacted: no Lua text holds a NUL. */
const mark = (i) => `\u0000${i}\u0000`;
const MARK = /\u0000(\d+)\u0000/;

/** The template literal of `raw` (the text between its backquotes) with every static part compacted by `compactLua`. */
export function compactTemplate(raw, compactLua, where) {
  if (raw.includes("\\") || raw.includes("\u0000")) throw new Error(`${where}: a Lua template with a backslash is not compacted at build time`);
  const holes = [];
  const compact = compactLua(raw.replace(HOLE, (_, expr) => mark(holes.push(expr) - 1)));
  const parts = compact.split(MARK);
  // split() with a capture group: static text at even indexes, the interpolation's number at odd ones.
  if (parts.length !== 2 * holes.length + 1) throw new Error(`${where}: an interpolation was lost in compaction`);
  return parts.map((part, i) => (i % 2 === 1 ? `\${${holes[Number(part)]}}` : part.replace(/\$\{/g, "\\${"))).join("");
}

/** The plugin, given compactLua from src/scripts/script.ts (imported by the caller: this file is plain JavaScript). */
export function compactLuaPlugin(compactLua) {
  return {
    name: "compact-lua",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async ({ path }) => {
        const text = await readFile(path, "utf8");
        if (!text.includes("compactLua(`")) return undefined;
        const contents = text.replace(CALL, (_, raw) => `\`${compactTemplate(raw, compactLua, path)}\``);
        if (contents.includes("compactLua(`")) throw new Error(`${path}: a compactLua(\`…\`) call was not compacted at build time`);
        return { contents, loader: "ts" };
      });
    },
  };
}
