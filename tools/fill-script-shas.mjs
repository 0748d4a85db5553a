import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
// Recomputes the sha field of every Lua script in src/scripts after its source changed.
const dir = new URL("../src/scripts", import.meta.url).pathname;
for (const f of readdirSync(dir)) {
  if (f === "script.ts" || f === "index.ts") continue;
  const p = `${dir}/${f}`;
  let text = readFileSync(p, "utf8");
  const src = /source: `([\s\S]*?)`,/.exec(text)[1];
  const sha = createHash("sha1").update(src).digest("hex");
  text = text.replace(/sha: "[0-9a-f]*"/, `sha: "${sha}"`);
  writeFileSync(p, text);
  console.log(f, sha);
}
