/*
 * How inspect prints: a table that fits a terminal (durations in the largest
 * two units, columns padded to their widest cell).
 */
import type { Row } from "./lock-kind";

/** 0.4s, 12s, 3m05s, 2h10m, 4d03h. */
export function duration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

const HEADER = ["KEY", "OWNER", "TRACE", "ALIVE", "HELD FOR", "LAST EXTENDED", "EXPIRES IN", "FENCING TOKEN", "WAITERS"];

/** The owner as a person reads it: its process ("host:pid") while alive, else the start of its process hash. */
function owner(row: Row): string {
  return row.owner.process ?? `process ${row.owner.processHash.slice(0, 12)}`;
}

export function table(rows: Row[]): string {
  const cells = rows.map((r) => [
    // Control characters and newlines in a name must not break the table; a semaphore's permit says so.
    JSON.stringify(r.key).slice(1, -1) + (r.kind === "permit" ? " (permit)" : ""),
    owner(r),
    r.owner.trace === undefined ? "-" : JSON.stringify(r.owner.trace).slice(1, -1),
    r.alive === null ? "unknown (liveness key of another type)" : r.alive ? "yes" : "NO (dead)",
    duration(r.heldForMs),
    `${duration(r.sinceExtendedMs)} ago`,
    duration(r.expiresInMs),
    String(r.fencingToken),
    r.waiters ? "yes" : "-",
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join("  ");
  return [line(HEADER), ...cells.map(line)].join("\n");
}
