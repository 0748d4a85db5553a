// The runtime × result table: for the terminal, and as markdown for docs/runtime-matrix.md.
import { readFileSync, writeFileSync } from "node:fs";

const COLUMNS = [
  ["runtime", (r) => r.runtime],
  ["version", (r) => r.version],
  ["module format", (r) => r.format],
  ["liveness", (r) => LIVENESS[r.liveness] ?? r.liveness ?? "?"],
  ["exclusive", (r) => mark(r.exclusive)],
  ["tokens increase", (r) => mark(r.tokens)],
  ["blocked holder keeps lock", (r) => mark(r.blocked)],
  ["Upstash client in thread", (r) => mark(r.upstash)],
  ["exits when idle", (r) => mark(r.exits)],
  ["SIGKILL takeover ms", (r) => (r.takeoverMs === null || r.takeoverMs === undefined ? "✗" : String(r.takeoverMs))],
  ["result", (r) => (r.ok ? "PASS" : "FAIL")],
];

/** What the Locker's platform name says about where liveness is written. */
const LIVENESS = { node: "worker_threads", deno: "Web Worker", "in-thread": "isolate timers" };

function mark(value) {
  return value === true ? "✓" : value === false ? "✗" : String(value ?? "?");
}

function cells(rows) {
  return rows.map((r) => COLUMNS.map(([, get]) => get(r)));
}

export function textTable(rows) {
  const body = cells(rows);
  const header = COLUMNS.map(([name]) => name);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cs) => cs.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function markdownTable(rows) {
  const header = COLUMNS.map(([name]) => name);
  const line = (cs) => `| ${cs.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...cells(rows).map(line)].join("\n");
}

const START = "<!-- matrix:start -->";
const END = "<!-- matrix:end -->";

/** Replaces the table between the markers in `file` with `markdown`. */
export function writeTableInto(file, markdown, note) {
  const text = readFileSync(file, "utf8");
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${file} has no ${START} … ${END} section`);
  writeFileSync(file, `${text.slice(0, from + START.length)}\n${note}\n\n${markdown}\n${text.slice(to)}`);
}
