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
// most reportTtlMs after it. On a cluster the wiped master may hold lock
// records but not the owner's liveness record, which lives on in another
// slot: no lapse, and the owner learns of the loss at its next recheck or
// extension that reaches the restarted master; while those fail (left to the
// deadline as transient), it stops at its lock's own deadline, lockTtlMs after
// its last extension, which was sent before the loss (docs/model.md A4).
//
// Three checks come from issue 14: release() called with lockData that is not
// the caller's own must never free a lock; a job that acts on its own timer
// (reading `signal.aborted` first) must not act once a newer run of its key
// started, even right after SIGCONT; and a run that returned with its signal
// unaborted must not end with a LockError when nothing could have removed its
// key (nobody else started a run of it, no data-losing restart, no misuse
// release that succeeded).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { semaphoreOverlaps } from "./check-semaphore.mjs";

export const CHECKS = [
  ["overlap", "overlapping runs of one key beyond the seppuku bound"],
  ["semaphoreOverlap", "more runs of a semaphore key than its limit at once"],
  ["timerActs", "a job's own timer acted after a newer run started"],
  ["misuseReleased", "release() with lockData not its own freed a lock"],
  ["falseLockError", "runs alone on their key that ended with LockError"],
  ["setActedAfterLoss", "a multi-key set acted after it lost one of its keys"],
  ["staleAccepted", "stale-token writes the fenced store accepted"],
  ["tokenOrder", "fencing tokens that went backwards (G5)"],
  ["deadHolder", "locks held by dead processes > reportTtlMs + 1 s"],
  ["unfinished", "runs never finished or never released"],
  ["unhandled", "unhandled rejections"],
];

const DATA_LOSS = "redis-restart-data-loss";
/** Faults during which the target cannot run any code. */
const FREEZES = new Set(["sigstop", "sigstop-takeover", "block"]);

function collectRuns(events) {
  const runs = new Map();
  for (const e of events) {
    if (e.type === "run-start") runs.set(e.run, { ...e, writes: [], abortAt: undefined, end: undefined });
    const run = runs.get(e.run);
    if (!run) continue;
    if (e.type === "write") run.writes.push(e);
    else if (e.type === "abort" && !e.afterReturn) run.abortAt = e.at;
    else if (e.type === "run-end") run.end = e;
  }
  for (const run of runs.values()) {
    // What the run acted on: its start and every write made right after a successful heartbeat ...
    run.lastOk = Math.max(run.start, ...run.writes.filter((w) => !w.afterAbort && !w.timer).map((w) => w.at));
    // ... and, apart, every write its own timer made after reading signal.aborted === false, as of the moment just
    // before that read (checkedAt): a freeze between the read and the write makes the write late, not the decision.
    run.lastTimerAct = Math.max(-Infinity, ...run.writes.filter((w) => w.timer).map((w) => w.checkedAt ?? w.at));
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
    if ((e.type === "fault" || e.type === "fault-end") && FREEZES.has(e.kind)) {
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

/** Overlaps beyond the bound, apart by what the older run did: acted (heartbeat writes, abort) or its own timer acted. */
function overlaps(groups, losses, frozen, { lossBoundMs, slackMs, resumeMs }) {
  const found = [];
  const timerActs = [];
  for (const [key, runs] of groups) {
    for (const a of runs) {
      for (const b of runs) {
        if (a.token >= b.token) continue;
        let allowedUntil = b.start + slackMs;
        for (const t of losses) {
          if (t >= a.start - slackMs && t <= b.start + slackMs) allowedUntil = Math.max(allowedUntil, t + lossBoundMs + slackMs);
        }
        const report = (what, at, into = found) =>
          into.push({
            key,
            older: a.run,
            newer: b.run,
            overlapMs: round(at - b.start),
            detail: `${a.run} (token ${a.token}) ${what} ${round(at - b.start)} ms after ${b.run} (token ${b.token}) started`,
          });
        if (a.lastTimerAct > allowedUntil) report("acted on its own timer (signal not aborted)", a.lastTimerAct, timerActs);
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
  return { found, timerActs };
}

/** Misuse releases (another owner's lockData, or its own running job's) that answered SUCCESS: they freed a lock. */
function misuseReleased(events) {
  return events
    .filter((e) => e.type === "misuse" && e.status === "SUCCESS")
    .map((e) => ({ ...e, detail: `${e.worker} released ${e.key} with ${e.source} lockData of ${e.victim}: SUCCESS` }));
}

/**
 * A run that returned with its signal unaborted and still ended with a LockError, although no other run of its key
 * started meanwhile and nothing else could have removed its key: a data-losing Redis restart, or a misuse release
 * that succeeded. (A run whose signal had aborted lost its lock for real: its self-fencing deadline passed.)
 */
function falseLockErrors(groups, events, slackMs) {
  const losses = events.filter((e) => e.type === "fault" && e.kind === DATA_LOSS).map((e) => e.t);
  const freed = events.filter((e) => e.type === "misuse" && e.status === "SUCCESS");
  const found = [];
  for (const [key, runs] of groups) {
    for (const a of runs) {
      if (a.end?.outcome !== "lost" || !a.end.returned || a.end.returned.aborted) continue;
      const from = a.start - slackMs;
      const to = Math.max(a.end.at, a.end.t ?? -Infinity) + slackMs;
      if (runs.some((b) => b !== a && b.start >= from && b.start <= to)) continue;
      if (losses.some((t) => t >= from && t <= to)) continue;
      if (freed.some((m) => m.key === key && m.at >= from && m.sentAt <= to)) continue;
      found.push({ run: a.run, key, set: a.set, detail: `${a.run} on ${key} ran alone and ended with LockError: ${a.end.error ?? "(no message)"}` });
    }
  }
  return wholeSetsOnly(found, groups);
}

/**
 * A multi-key set ends with the LockError of whichever key it lost first, and every other key of the set ends
 * with it: a set's LockError is false only when every one of its keys ran alone. One item per such set.
 */
function wholeSetsOnly(found, groups) {
  const keysOfSet = new Map();
  for (const runs of groups.values()) for (const r of runs) if (r.set) keysOfSet.set(r.set, (keysOfSet.get(r.set) ?? 0) + 1);
  const aloneOfSet = new Map();
  for (const f of found) if (f.set) aloneOfSet.set(f.set, (aloneOfSet.get(f.set) ?? 0) + 1);
  const reported = new Set();
  return found.filter((f) => {
    if (!f.set) return true;
    if (aloneOfSet.get(f.set) !== keysOfSet.get(f.set) || reported.has(f.set)) return false;
    reported.add(f.set);
    return true;
  });
}

/**
 * Seppuku of a multi-key set (chaos/multi-job.mjs): once the set's signal aborted (any key lost), no key of the
 * set may be acted on again: its writes come right after a successful heartbeat of the whole set, which throws
 * as soon as any key is lost. A write more than `slackMs` after the set's first abort is a violation.
 */
function setActedAfterLoss(runs, slackMs) {
  const sets = new Map();
  for (const r of runs.values()) if (r.set) sets.set(r.set, [...(sets.get(r.set) ?? []), r]);
  const found = [];
  for (const [set, members] of sets) {
    const lostAt = Math.min(...members.map((r) => r.abortAt ?? Infinity));
    for (const r of members) {
      const late = r.writes.filter((w) => !w.afterAbort && w.at > lostAt + slackMs);
      if (late.length > 0) found.push({ set, run: r.run, detail: `${r.run} wrote ${r.key} ${round(late.at(-1).at - lostAt)} ms after its set ${set} aborted` });
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

/**
 * G5 for permits: tokens grow in the order the permits were acquired, and permits of one key are held at once by
 * design, so a run may start after a later permit's run (its acquire's reply was delayed, say) with a smaller token.
 * What can be checked from the runs is that no two permits of one key share a token.
 */
function permitTokenRepeats(runs) {
  const found = [];
  const seen = new Map();
  for (const run of runs) {
    if (!run.limit) continue;
    const id = `${run.key}\u0000${run.token}`;
    const first = seen.get(id);
    if (first) found.push({ key: run.key, detail: `${run.run} got the token ${run.token} of ${first.run} on semaphore ${run.key}` });
    else seen.set(id, run);
  }
  return found;
}

/** G5 for locks: a run that started after another run of its key has a larger token. */
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
  const { reportTtlMs, lockTtlMs } = meta.options;
  // How long after a data-losing restart an owner may still believe it holds its key (see the top of this file).
  const lossBoundMs = meta.cluster ? Math.max(reportTtlMs, lockTtlMs ?? reportTtlMs) : reportTtlMs;
  const slackMs = meta.slackMs ?? 5;
  const runs = collectRuns(events);
  // Runs under a semaphore permit overlap by design: the semaphore check counts them (chaos/check-semaphore.mjs).
  const groups = byKey([...runs.values()].filter((r) => !r.limit));
  const losses = events.filter((e) => e.type === "fault" && e.kind === DATA_LOSS).map((e) => e.t);
  const overlap = overlaps(groups, losses, freezes(events), { lossBoundMs, slackMs, resumeMs: meta.resumeMs ?? 200 });
  const semaphore = semaphoreOverlaps(runs.values(), losses, { slackMs });
  const violations = {
    overlap: overlap.found,
    semaphoreOverlap: semaphore.found,
    timerActs: overlap.timerActs,
    misuseReleased: misuseReleased(events),
    falseLockError: falseLockErrors(groups, events, slackMs),
    setActedAfterLoss: setActedAfterLoss(runs, slackMs),
    staleAccepted: staleAccepted(events),
    tokenOrder: [...tokenOrder(groups, slackMs), ...permitTokenRepeats(runs.values())],
    deadHolder: events
      .filter((e) => e.type === "probe" && e.held)
      .map((e) => ({
        ...e,
        detail: `${e.key} still held by dead ${e.worker} ${round(e.t - e.killedAt)} ms after its death`,
      })),
    unfinished: unfinished(events, runs),
    unhandled: events.filter((e) => e.type === "unhandled").map((e) => ({ ...e, detail: `${e.worker}: ${e.error}` })),
  };
  const total = Object.values(violations).reduce((n, list) => n + list.length, 0);
  return { violations, total, figures: { ...figures(events, runs), semaphoreRuns: semaphore.runs, semaphorePeaks: semaphore.peaks } };
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
  const misuses = events.filter((e) => e.type === "misuse");
  return {
    cluster: Boolean(events.find((e) => e.type === "meta").cluster),
    acquisitions: all.length,
    acquisitionsByKind: countBy(all, (r) => r.kind ?? "node"),
    timerRuns: all.filter((r) => r.style === "timer").length,
    multiKeySets: new Set(all.filter((r) => r.set).map((r) => r.set)).size,
    multiKeySetsLost: new Set(all.filter((r) => r.set && r.end?.outcome === "lost").map((r) => r.set)).size,
    timerWrites: writes.filter((w) => w.timer).length,
    misuseBySource: countBy(misuses, (e) => e.source),
    misuseByStatus: countBy(misuses, (e) => e.status),
    takeoversWhileStopped: events.filter((e) => e.type === "fault-end" && e.kind === "sigstop-takeover" && e.takenOverBy).length,
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

const entries = (counts) =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ") || "none";

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
  lines.push(
    `acquisitions: ${f.acquisitions} (${entries(f.acquisitionsByKind)}); runs that lost their lock (seppuku): ${f.lost}`,
    `fenced store: ${f.writesAccepted} writes accepted, ${f.fencedRejections} rejected as stale (fenced, ok; ${f.fencedAfterAbort} of them after the run's abort)`,
    `faults: ${f.faultCount} (${entries(f.faults)})`,
    `jobs acting on their own timer: ${f.timerRuns} (${f.timerWrites} timer writes); sigstops that straddled a takeover: ${f.takeoversWhileStopped}`,
    `misuse releases: ${entries(f.misuseBySource)}; answered ${entries(f.misuseByStatus)}`,
    `multi-key sets (each key also counted as a run above): ${f.multiKeySets}, of which lost: ${f.multiKeySetsLost}`,
  );
  if (f.semaphoreRuns) lines.push(`semaphore runs: ${f.semaphoreRuns}; most acting at once per key: ${entries(f.semaphorePeaks ?? {})}`);
  if (f.takeoverMsMax !== null) lines.push(`slowest takeover of a dead or frozen worker's lock: ${f.takeoverMsMax} ms (reportTtlMs ${f.reportTtlMs})`);
  return lines.join("\n");
}

export function readHistory(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
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
