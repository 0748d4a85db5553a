#!/usr/bin/env node
// Checks model/pulselock.pml and model/semaphore.pml with Spin (`npm run model`): the protocol as
// built must pass, and deliberately broken variants must fail, which shows
// that the check can fail at all. Builds in a temp dir; exits 1 on any surprise.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Each variant names its model file: the lock protocol (pulselock.pml) or the semaphore's (semaphore.pml).
const models = ["pulselock.pml", "semaphore.pml"];
// Supertrace (bitstate) search with 2^BITS bits of hash table: exhaustive enough to find each broken variant,
// bounded in memory and time on a 2-core machine (about 80 s in all; every broken variant is still caught at
// 2^23). PULSELOCK_MODEL_BITS=26 searches about 4 times as many states (about 6 minutes).
const BITS = process.env.PULSELOCK_MODEL_BITS ?? "24";
// The semaphore model at 2^23: with three processes its space is far larger than any table here covers (a one-off
// 2^30 search of a broken variant stored 256 million states in 13.5 minutes without reaching the bug), so a larger
// table buys little; at 2^23 every variant still ends as expected, in about 1 min 50 s instead of 3 min 30 s.
const SEMAPHORE_BITS = process.env.PULSELOCK_MODEL_BITS ?? "23";
// `node model/check.mjs semaphore.pml` checks the variants of one model file only.
const only = process.argv[2];

const variants = [
  { name: "protocol as built (single Redis)", defines: [], expect: "pass" },
  { name: "protocol as built (Redis Cluster: acquire cannot check its own liveness key)", defines: ["CLUSTER"], expect: "pass" },
  { name: "a Redis restart that loses every key (fencing tokens only)", defines: ["DATA_LOSS"], expect: "pass" },
  { name: "SANITY: a takeover of a dead holder's unexpired lock is reached", defines: ["REACH_TAKEOVER"], expect: "fail" },
  { name: "SANITY: an acquire within a released token's microsecond (over its tombstone) is reached", defines: ["REACH_TOMBSTONE"], expect: "fail" },
  { name: "BROKEN: the deadline ignores clock drift", defines: ["BROKEN_NO_DRIFT"], expect: "fail" },
  { name: "BROKEN: no margin for a late deadline timer", defines: ["MARGIN=0"], expect: "fail" },
  { name: "BROKEN: the fencing token is a counter kept in the lock record (no TIME)", defines: ["BROKEN_TOKEN_COUNTER"], expect: "fail" },
  { name: "BROKEN: release always deletes the key (no tombstone of the token)", defines: ["BROKEN_NO_TOMBSTONE"], expect: "fail" },
  // The semaphore (semaphore.pml): three processes and two permits, and, where a broken variant needs it to be
  // found within the search budget, two processes and one permit (docs/model.md, "The semaphore").
  { name: "semaphore as built (3 processes, limit 2, single Redis)", model: "semaphore.pml", defines: [], expect: "pass" },
  { name: "semaphore as built (3 processes, limit 2, Redis Cluster)", model: "semaphore.pml", defines: ["CLUSTER"], expect: "pass" },
  { name: "semaphore as built (2 processes, limit 1)", model: "semaphore.pml", defines: ["NP=2", "LIMIT=1"], expect: "pass" },
  { name: "semaphore with a Redis restart that loses every key (tokens only)", model: "semaphore.pml", defines: ["DATA_LOSS"], expect: "pass" },
  { name: "SANITY: semaphore, two permits running at once is reached", model: "semaphore.pml", defines: ["REACH_FULL"], expect: "fail" },
  {
    name: "SANITY: semaphore, a takeover of a dead holder's unexpired permit is reached",
    model: "semaphore.pml",
    defines: ["NP=2", "LIMIT=1", "REACH_TAKEOVER"],
    expect: "fail",
  },
  { name: "BROKEN: semaphore admits one permit too many", model: "semaphore.pml", defines: ["NP=2", "LIMIT=1", "BROKEN_OFF_BY_ONE"], expect: "fail" },
  { name: "BROKEN: semaphore, the deadline ignores clock drift", model: "semaphore.pml", defines: ["NP=2", "LIMIT=1", "BROKEN_NO_DRIFT"], expect: "fail" },
  { name: "BROKEN: semaphore, no margin for a late deadline timer", model: "semaphore.pml", defines: ["NP=2", "LIMIT=1", "MARGIN=0"], expect: "fail" },
  { name: "BROKEN: semaphore token is TIME alone (no last token kept)", model: "semaphore.pml", defines: ["BROKEN_NO_LAST_TOKEN"], expect: "fail" },
  {
    name: "BROKEN: semaphore, the last release always deletes the hash (its token with it)",
    model: "semaphore.pml",
    defines: ["BROKEN_NO_TOMBSTONE"],
    expect: "fail",
  },
];

function have(cmd) {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

for (const tool of ["spin", "gcc"]) {
  if (!have(tool)) {
    console.error(`model: ${tool} is not installed (Debian: apt-get install -y ${tool === "spin" ? "spin" : "gcc"})`);
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), "pulselock-model-"));
let surprises = 0;
try {
  for (const m of models) copyFileSync(fileURLToPath(new URL(`./${m}`, import.meta.url)), join(dir, m));
  for (const v of variants.filter((x) => only === undefined || (x.model ?? "pulselock.pml") === only)) {
    const t0 = performance.now();
    const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
    run("spin", [...v.defines.map((d) => `-D${d}`), "-a", v.model ?? "pulselock.pml"]);
    run("gcc", ["-O2", "-w", "-DSAFETY", "-DBITSTATE", "-o", "pan", "pan.c"]);
    // -E: runs that simply end are fine (we check safety only); -m: depth bound well above any run of the model.
    const out = run("./pan", ["-E", "-m200000", `-w${v.model === "semaphore.pml" ? SEMAPHORE_BITS : BITS}`, "-k3"]);
    const errors = Number(/errors: (\d+)/.exec(out)?.[1] ?? NaN);
    const states = /(\d+) states, stored/.exec(out)?.[1] ?? "?";
    const truncated = /max search depth too small/.test(out);
    const got = errors === 0 ? "pass" : errors > 0 ? "fail" : "unknown";
    const ok = got === v.expect && !truncated;
    if (!ok) surprises++;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${ok ? "ok  " : "FAIL"} ${v.name}: ${got} (expected ${v.expect}), ${states} states, ${secs} s`);
    if (!ok || process.env.PULSELOCK_MODEL_VERBOSE) console.log(out);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (surprises > 0) {
  console.error(`model: ${surprises} variant(s) did not behave as expected`);
  process.exit(1);
}
console.log("model: the protocol passes and every broken variant is caught");
