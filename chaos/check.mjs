// The chaos checker: a pure function over a run's history (the JSONL events
// that chaos/run.mjs writes), and a CLI: `node chaos/check.mjs history.jsonl`
// prints the table and exits 1 on any violation.
//
// The bound it checks for overlaps is pulselock's self-fencing guarantee (G4
// in DESIGN.md; README "How it works: Self-fencing"): an owner treats its lock
// as lost no later than the earliest moment anyone else could take it. So a
// run must have stopped believing it holds its key before a run with a higher
// token starts, give or take `slackMs` of timestamp jitter between processes:
// its last action (a write right after a successful heartbeat) and its abort
// (the signal firing) must both come before. A process that was frozen
// (SIGSTOP, a blocked event loop) when that moment came cannot abort then; it
// must abort within `resumeMs` of running again, and must not act at all. The one documented
// exception is a Redis restart that lost all data: the records vanish at
// once, so nothing local can stop the owner in time; pulselock's bound there is
// the self-fencing deadline itself (README "A lapse is final"): the last
// liveness write that counted was sent before the loss, so the owner stops at
// most reportTtlMs after it.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const CHECKS = [
  ["overlap", "overlapping runs of one key beyond the seppuku bound"],
  ["staleAccepted", "stale-token writes the fenced store accepted"],
  ["tokenOrder", "fencing tokens that went backwards (G5)"],
  ["deadHolder", "locks held by dead processes > reportTtlMs + 1 s"],
  ["unfinished", "runs never finished or never released"],
  ["unhandled", "unhandled rejections"],
];

const DATA_LOSS = "redis-restart-data-loss";

function collectRuns(events) {
  const runs = new Map();
  for (const e of events) {
    if (e.type === "run-start") runs.set(e.run, { ...e, writes: [], abortAt: undefined, end: undefined });
    const run = runs.get(e.run);
    if (!run) continue;
    if (e.type === "write") run.writes.push(e);
    else if (e.type === "abort") run.abortAt = e.at;
    else if (e.type === "run-end") run.end = e;
  }
  for (const run of runs.values()) {
    // What the run acted on: its start and every write made right after a successful heartbeat.
    run.lastOk = Math.max(run.start, ...run.writes.filter((w) => !w.afterAbort).map((w) => w.at));
  }
  return runs;
}

function byKey(runs) {
  const groups = new Map();
  for (const run of runs) {
    if (!groups.has(run.key)) groups.set(run.key, []);
    groups.get(run.key).push(run);
  }
  return groups;
}

/** Intervals during which a worker could not run any code: SIGSTOPped, or its event loop blocked. */
function freezes(events) {
  const open = new Map();
  const out = new Map();
  for (const e of events) {
    if ((e.type === "fault" || e.type === "fault-end") && (e.kind === "sigstop" || e.kind === "block")) {
      const id = `${e.kind}:${e.target}`;
      if (e.type === "fault") open.set(id, e.t);
      else if (open.has(id)) {
        if (!out.has(e.target)) out.set(e.target, []);
        out.get(e.target).push([open.get(id), e.t]);
        open.delete(id);
      }
    }
  }
  return out;
}

function overlaps(groups, losses, frozen, { reportTtlMs, slackMs, resumeMs }) {
  const found = [];
  for (const [key, runs] of groups) {
    for (const a of runs) {
      for (const b of runs) {
        if (a.token >= b.token) continue;
        let allowedUntil = b.start + slackMs;
        for (const t of losses) {
          if (t >= a.start - slackMs && t <= b.start + slackMs) allowedUntil = Math.max(allowedUntil, t + reportTtlMs + slackMs);
        }
        const report = (what, at) =>
          found.push({
            key,
            older: a.run,
            newer: b.run,
            overlapMs: round(at - b.start),
            detail: `${a.run} (token ${a.token}) ${what} ${round(at - b.start)} ms after ${b.run} (token ${b.token}) started`,
          });
        if (a.lastOk > allowedUntil) {
          report("still acted", a.lastOk);
          continue;
        }
        if (a.abortAt === undefined) continue;
        // A process that cannot run code cannot abort: it must do so as soon as it runs again.
        let abortBy = allowedUntil;
        for (const [from, to] of frozen.get(a.worker) ?? []) {
          if (from <= b.start + slackMs && to >= a.start) abortBy = Math.max(abortBy, to + resumeMs);
        }
        if (a.abortAt > abortBy) report("saw its abort only", a.abortAt);
      }
    }
  }
  return found;
}

function staleAccepted(events) {
  const highest = new Map();
  const found = [];
  const writes = events.filter((e) => e.type === "write").sort((x, y) => x.seq - y.seq);
  for (const w of writes) {
    const top = highest.get(w.key) ?? 0;
    if (w.accepted && w.token < top) found.push({ ...w, detail: `${w.run} wrote ${w.key} with token ${w.token} < ${top}` });
    if (w.accepted) highest.set(w.key, Math.max(top, w.token));
  }
  return found;
}

function tokenOrder(groups, slackMs) {
  const found = [];
  for (const [key, runs] of groups) {
    const sorted = [...runs].sort((x, y) => x.start - y.start);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const [a, b] = [sorted[i], sorted[j]];
        if (b.start > a.start + slackMs && b.token <= a.token) {
          found.push({ key, detail: `${b.run} started after ${a.run} with token ${b.token} <= ${a.token}` });
        }
      }
    }
  }
  return found;
}

function unfinished(events, runs) {
  const killedAt = new Map(); // worker → times it was killed by a fault
  for (const e of events) {
    if (e.type === "worker-exit" && e.killed) killedAt.set(e.worker, [...(killedAt.get(e.worker) ?? []), e.t]);
  }
  const found = [];
  for (const run of runs.values()) {
    if (!run.end) {
      const died = (killedAt.get(run.worker) ?? []).some((t) => t >= run.start - 1);
      if (!died) found.push({ run: run.run, detail: `${run.run} on ${run.key} started and never ended` });
    } else if (run.end.outcome === "error") {
      found.push({ run: run.run, detail: `${run.run} on ${run.key} ended with ${run.end.error} (release failed)` });
    }
  }
  for (const e of events) {
    // Locks still in Redis once every participant was idle, under an identity whose liveness record is alive.
    if (e.type === "leftover" && e.alive) found.push({ detail: `${e.key} still held by live ${e.owner} with nothing running` });
  }
  return found;
}

const round = (ms) => Math.round(ms * 10) / 10;

/**
 * Checks a history. Returns { violations: { check → [items] }, total, figures }.
 * Pure: it reads only the events.
 */
export function checkHistory(events) {
  const meta = events.find((e) => e.type === "meta");
  if (!meta) throw new Error("chaos history has no meta event");
  const { reportTtlMs } = meta.options;
  const slackMs = meta.slackMs ?? 5;
  const runs = collectRuns(events);
  const groups = byKey(runs.values());
  const losses = events.filter((e) => e.type === "fault" && e.kind === DATA_LOSS).map((e) => e.t);
  const violations = {
    overlap: overlaps(groups, losses, freezes(events), { reportTtlMs, slackMs, resumeMs: meta.resumeMs ?? 200 }),
    staleAccepted: staleAccepted(events),
    tokenOrder: tokenOrder(groups, slackMs),
    deadHolder: events.filter((e) => e.type === "probe" && e.held).map((e) => ({
      ...e,
      detail: `${e.key} still held by dead ${e.worker} ${round(e.t - e.killedAt)} ms after its death`,
    })),
    unfinished: unfinished(events, runs),
    unhandled: events.filter((e) => e.type === "unhandled").map((e) => ({ ...e, detail: `${e.worker}: ${e.error}` })),
  };
  const total = Object.values(violations).reduce((n, list) => n + list.length, 0);
  return { violations, total, figures: figures(events, runs) };
}

function figures(events, runs) {
  const faults = {};
  for (const e of events) if (e.type === "fault") faults[e.kind] = (faults[e.kind] ?? 0) + 1;
  const writes = events.filter((e) => e.type === "write");
  const all = [...runs.values()];
  // How long after a worker's death (or freeze) another participant started a key the dead one held.
  const takeovers = events
    .filter((e) => e.type === "probe")
    .map((p) => all.filter((r) => r.key === p.key && r.start > p.killedAt).reduce((min, r) => Math.min(min, r.start - p.killedAt), Infinity))
    .filter(Number.isFinite)
    .map(round);
  return {
    acquisitions: all.length,
    acquisitionsByKind: countBy(all, (r) => r.kind ?? "node"),
    lost: all.filter((r) => r.end?.outcome === "lost").length,
    writesAccepted: writes.filter((w) => w.accepted).length,
    fencedRejections: writes.filter((w) => !w.accepted).length,
    fencedAfterAbort: writes.filter((w) => !w.accepted && w.afterAbort).length,
    faults,
    faultCount: Object.values(faults).reduce((a, b) => a + b, 0),
    takeoverMsMax: takeovers.length ? Math.max(...takeovers) : null,
    reportTtlMs: events.find((e) => e.type === "meta").options.reportTtlMs,
  };
}

function countBy(items, keyOf) {
  const out = {};
  for (const item of items) out[keyOf(item)] = (out[keyOf(item)] ?? 0) + 1;
  return out;
}

/** The report as text: the violations table, then the figures. */
export function formatReport({ violations, total, figures: f }) {
  const width = Math.max(...CHECKS.map(([, label]) => label.length));
  const lines = [`${"check".padEnd(width)}  violations`, `${"-".repeat(width)}  ----------`];
  for (const [id, label] of CHECKS) lines.push(`${label.padEnd(width)}  ${String(violations[id].length).padStart(10)}`);
  lines.push(`${"total".padEnd(width)}  ${String(total).padStart(10)}`, "");
  for (const [id, label] of CHECKS) {
    for (const v of violations[id].slice(0, 10)) lines.push(`VIOLATION ${label}: ${v.detail}`);
    if (violations[id].length > 10) lines.push(`VIOLATION ${label}: … and ${violations[id].length - 10} more`);
  }
  const kinds = Object.entries(f.acquisitionsByKind).map(([k, n]) => `${k} ${n}`).join(", ");
  lines.push(
    `acquisitions: ${f.acquisitions} (${kinds}); runs that lost their lock (seppuku): ${f.lost}`,
    `fenced store: ${f.writesAccepted} writes accepted, ${f.fencedRejections} rejected as stale (fenced, ok; ${f.fencedAfterAbort} of them after the run's abort)`,
    `faults: ${f.faultCount} (${Object.entries(f.faults).map(([k, n]) => `${k} ${n}`).join(", ")})`,
  );
  if (f.takeoverMsMax !== null) lines.push(`slowest takeover of a dead or frozen worker's lock: ${f.takeoverMsMax} ms (reportTtlMs ${f.reportTtlMs})`);
  return lines.join("\n");
}

export function readHistory(file) {
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node chaos/check.mjs <history.jsonl>");
    process.exit(2);
  }
  const result = checkHistory(readHistory(file));
  console.log(formatReport(result));
  process.exit(result.total === 0 ? 0 : 1);
}
