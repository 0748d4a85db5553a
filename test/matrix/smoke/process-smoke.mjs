// The smoke run of runtimes that have processes and threads (Node, Bun, Deno).
// The same script is the child holder: run with PULSELOCK_SMOKE_ROLE=holder it
// takes the key and heartbeats until it is SIGKILLed. node:child_process works
// on all three runtimes.
import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { TIMINGS, acquireWithin, blockedHolderKeepsLock, exclusiveAndTokens, upstashRun } from "./checks.mjs";

/** Slack over reportTtlMs for a takeover: polling, process start-up noise on a busy 2-core machine. */
const TAKEOVER_SLACK_MS = 3000;

/**
 * @param lib the runtime's `pulselock`
 * @param o.connect (prefix) => ({ db, close }) with a RedisDatabase on process.env.REDIS_URL
 * @param o.upstash (prefix) => a RedisDatabase over an @upstash/redis client on UPSTASH_REDIS_REST_URL/_TOKEN
 * @param o.holderCommand [command, ...args] that runs this same script again
 * @param o.row { runtime, version, format }
 */
export async function runProcessSmoke(lib, o) {
  const prefix = process.env.PULSELOCK_SMOKE_PREFIX ?? "matrix:";
  const { db, close } = o.connect(prefix);
  const makeLocker = () => new lib.Locker({ database: db, ...TIMINGS });
  if (process.env.PULSELOCK_SMOKE_ROLE === "holder") return hold(makeLocker(), process.env.PULSELOCK_SMOKE_KEY);

  const id = `${o.row.runtime}-${o.row.format}-${Math.random().toString(36).slice(2)}`;
  const row = { ...o.row, liveness: "?", exclusive: false, tokens: false, blocked: false, upstash: false, takeoverMs: null, error: null };
  try {
    const basic = await exclusiveAndTokens(lib, makeLocker, `${id}:exclusive`);
    Object.assign(row, { liveness: basic.liveness, exclusive: basic.exclusive, tokens: basic.tokens, signals: basic.signals });
    // basic.lockers stay open on purpose: an idle Locker must not keep the process alive (G6); the runner
    // checks that this process exits by itself after printing its result.
    row.blocked = await blockedHolderKeepsLock(lib, makeLocker, `${id}:blocked`, TIMINGS.reportTtlMs * 1.5);
    row.upstash = await upstashRun(lib, o.upstash(prefix), `${id}:upstash`);
    await loadsExtensionlessReference(lib);
    row.takeoverMs = await takeover(lib, makeLocker, `${id}:takeover`, o.holderCommand, prefix);
  } catch (error) {
    row.error = String(error?.stack ?? error);
  }
  await close();
  row.ok = row.exclusive && row.tokens && row.blocked && row.upstash && row.takeoverMs !== null && !row.error;
  console.log(`MATRIX_RESULT ${JSON.stringify(row)}`);
}

/** A reference by an absolute path without its extension loads, as require() finds it (what @clickup/distributed-locker's users pass). */
async function loadsExtensionlessReference(lib) {
  const moduleName = fileURLToPath(new URL("./reference-db", import.meta.url));
  const db = await lib.loadDatabase({ moduleName, exportName: "db" });
  if (typeof db?.lockKey !== "function") throw new Error(`loadDatabase(${JSON.stringify(moduleName)}) gave ${db}`);
}

async function hold(locker, key) {
  await locker.acquireAndRun(key, async (heartbeat) => {
    console.log(JSON.stringify({ event: "acquired", fencingToken: heartbeat.lockData.fencingToken }));
    for (;;) await heartbeat.delay(50);
  });
}

/** A child of the same runtime holds the key and is SIGKILLed; returns ms from the kill to our acquisition. */
async function takeover(lib, makeLocker, key, [command, ...args], prefix) {
  const child = spawn(command, args, {
    env: { ...process.env, PULSELOCK_SMOKE_ROLE: "holder", PULSELOCK_SMOKE_KEY: key, PULSELOCK_SMOKE_PREFIX: prefix },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the holder did not acquire within 60 s")), 60_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        if (line.includes('"acquired"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => reject(new Error(`the holder exited (code ${code}) before acquiring`)));
    });
    const locker = makeLocker();
    const refused = await locker.acquireAndRun(key, async () => "taken from a live holder");
    if (refused.status !== lib.LockStatus.SOMEONE_ELSE_HOLDS_LOCK) throw new Error(`a live holder's lock was taken: ${refused.status}`);
    child.kill("SIGKILL");
    await exited;
    const ms = await acquireWithin(lib, locker, key, TIMINGS.reportTtlMs + TAKEOVER_SLACK_MS);
    await locker.terminate();
    if (ms === undefined) throw new Error(`not taken over within ${TIMINGS.reportTtlMs + TAKEOVER_SLACK_MS} ms of the SIGKILL`);
    return ms;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
