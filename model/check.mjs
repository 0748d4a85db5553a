#!/usr/bin/env node
// Checks model/pulselock.pml with Spin (`npm run model`): the protocol as
// built must pass, and deliberately broken variants must fail, which shows
// that the check can fail at all. Builds in a temp dir; exits 1 on any surprise.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const model = fileURLToPath(new URL("./pulselock.pml", import.meta.url));
// Supertrace (bitstate) search with 2^BITS bits of hash table: exhaustive enough to find each broken variant,
// bounded in memory and time on a 2-core machine (about 80 s in all; every broken variant is still caught at
// 2^23). PULSELOCK_MODEL_BITS=26 searches about 4 times as many states (about 6 minutes).
const BITS = process.env.PULSELOCK_MODEL_BITS ?? "24";

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
  copyFileSync(model, join(dir, "pulselock.pml"));
  for (const v of variants) {
    const t0 = performance.now();
    const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
    run("spin", [...v.defines.map((d) => `-D${d}`), "-a", "pulselock.pml"]);
    run("gcc", ["-O2", "-w", "-DSAFETY", "-DBITSTATE", "-o", "pan", "pan.c"]);
    // -E: runs that simply end are fine (we check safety only); -m: depth bound well above any run of the model.
    const out = run("./pan", ["-E", "-m200000", `-w${BITS}`, "-k3"]);
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
