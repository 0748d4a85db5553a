import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { tsImport } from "tsx/esm/api";
// Recomputes the sha field of every Lua script in src/scripts after its source changed. A source may be
// composed (the record layout of src/lock-record.ts is spliced into it), so the module is loaded and the
// SHA1 taken over the final text that reaches Redis: the compact text (compactLua(), which the build also
// applies ahead of time); only the `sha: "…"` literal of the file is rewritten.
const dir = new URL("../src/scripts/", import.meta.url);
const { compactLua } = await tsImport(new URL("script.ts", dir).href, import.meta.url);
for (const f of readdirSync(dir).sort()) {
  if (f === "script.ts" || !f.endsWith(".ts")) continue;
  const url = new URL(f, dir);
  const scripts = Object.values(await tsImport(url.href, import.meta.url)).filter(
    (v) => v && typeof v === "object" && typeof v.source === "string" && typeof v.sha === "string",
  );
  if (scripts.length !== 1) throw new Error(`${f}: expected one Lua script export, found ${scripts.length}`);
  const { source } = scripts[0];
  if (compactLua(source) !== source) throw new Error(`${f}: its source is not compact: wrap the Lua text in compactLua(\`…\`)`);
  const sha = createHash("sha1").update(source, "utf8").digest("hex");
  const text = readFileSync(url, "utf8");
  const next = text.replace(/sha: "[0-9a-f]*"/, `sha: "${sha}"`);
  if (next === text && !text.includes(`sha: "${sha}"`)) throw new Error(`${f}: no sha: "…" literal to rewrite`);
  writeFileSync(url, next);
  console.log(f, sha);
}
