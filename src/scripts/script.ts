/** A Lua script with its SHA1 computed ahead of time, so the core needs no crypto module. */
export interface LuaScript {
  readonly name: string;
  /** The text sent to Redis: compactLua() of the readable text in the source file. */
  readonly source: string;
  /** SHA1 of `source` (`node tools/fill-script-shas.mjs`), what SCRIPT LOAD answers for it. */
  readonly sha: string;
}

/** The level of a Lua long bracket (`[[` 0, `[=[` 1, …) opening at `at` of `text`, or -1 when none opens there. */
function longBracketLevel(text: string, at: number): number {
  if (text[at] !== "[") return -1;
  let end = at + 1;
  while (text[end] === "=") end++;
  return text[end] === "[" ? end - at - 1 : -1;
}

/** The index just past the long bracket of `level` opened at `at` (`]]`, `]=]`, …); throws when it never closes. */
function longBracketEnd(text: string, at: number, level: number): number {
  const close = `]${"=".repeat(level)}]`;
  const end = text.indexOf(close, at + level + 2);
  if (end < 0) throw new Error(`compactLua: unfinished long bracket at ${at}`);
  return end + close.length;
}

/** The index just past the quoted string opened at `at` (escapes included); throws when the line ends first. */
function quotedEnd(text: string, at: number): number {
  const quote = text[at];
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i + 1;
    else if (text[i] === "\n") break;
  }
  throw new Error(`compactLua: unfinished string at ${at}`);
}

/**
 * A Lua script's text as it is sent to Redis: without comments, indentation,
 * trailing blanks and empty lines. The scripts are written to be read, and
 * every byte of their text ships in the edge bundle and travels with each
 * EVAL. Lines of code stay lines (Lua's statements need no more, and an error
 * still names a line), string literals (quoted or long brackets) are never
 * touched, and a block comment leaves a space, or a line break when it spanned
 * lines, so no two tokens are joined. Idempotent: compact text comes out as
 * it went in. The build (tools/compact-lua-plugin.mjs) compacts the script
 * literals ahead of time, so the bundle carries only compact text; run from
 * source, the same function compacts at load.
 */
export function compactLua(text: string): string {
  const lines: string[] = [];
  let line = "";
  const endLine = () => {
    line = line.trimEnd();
    if (line !== "") lines.push(line);
    line = "";
  };
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === "\n") {
      endLine();
      i++;
    } else if (line === "" && (c === " " || c === "\t" || c === "\r")) {
      i++;
    } else if (c === "-" && text[i + 1] === "-") {
      const level = longBracketLevel(text, i + 2);
      if (level < 0) {
        const eol = text.indexOf("\n", i);
        i = eol < 0 ? text.length : eol;
      } else {
        const end = longBracketEnd(text, i + 2, level);
        if (text.slice(i, end).includes("\n")) endLine();
        else if (line !== "") line += " ";
        i = end;
      }
    } else {
      const level = longBracketLevel(text, i);
      const end = c === "'" || c === '"' ? quotedEnd(text, i) : level >= 0 ? longBracketEnd(text, i, level) : i + 1;
      line += text.slice(i, end);
      i = end;
    }
  }
  endLine();
  return lines.join("\n");
}
