// HTTP requests per acquireAndRun from an idle isolate, over the Upstash REST
// protocol (pulselock upstash-dev), for pulselock's edge entry and for
// @upstash/lock. upstash-dev counts requests only in its own process (a test
// hook), and the run keeps it in a process of its own, so the requests are
// counted here by a counting wrapper around the global fetch, which is what
// @upstash/redis calls for every request.
import { Locker, LockStatus, RedisDatabase } from "pulselock/core";
import { Lock as UpstashLock } from "@upstash/lock";
import { upstash } from "./lib/clients.mjs";
import { sleep } from "./lib/loop.mjs";

const LEASE_MS = 30_000;
/** A request started this long after the last one settled would not belong to the job any more. */
const QUIET_MS = 300;

/** Wraps globalThis.fetch while `fn` runs and until the requests have gone quiet; resolves with what each request carried and when. */
async function countRequests(fn) {
  const real = globalThis.fetch;
  const requests = [];
  let inFlight = 0;
  let lastSettled = performance.now();
  globalThis.fetch = async (url, init) => {
    const entry = { path: new URL(String(url)).pathname, commands: describeBody(init?.body), started: performance.now(), done: undefined };
    requests.push(entry);
    inFlight++;
    try {
      return await real(url, init);
    } finally {
      entry.done = lastSettled = performance.now();
      inFlight--;
    }
  };
  try {
    const marks = await fn();
    while (inFlight > 0 || performance.now() - lastSettled < QUIET_MS) await sleep(20);
    return { requests, marks };
  } finally {
    globalThis.fetch = real;
  }
}

/** ["evalsha", sha, …] → "evalsha"; a pipeline's commands joined with "+". */
function describeBody(body) {
  try {
    const parsed = JSON.parse(String(body));
    const cmds = Array.isArray(parsed[0]) ? parsed : [parsed];
    return cmds.map((c) => String(c[0]).toLowerCase()).join("+");
  } catch {
    return "?";
  }
}

/** One job: how many requests it made in all, how many had started and settled when the job function began. */
function tally({ requests, marks }) {
  const at = marks.jobStarted;
  return {
    total: requests.length,
    startedBeforeJob: requests.filter((r) => r.started < at).length,
    settledBeforeJob: requests.filter((r) => r.done !== undefined && r.done < at).length,
    sequence: requests.map((r) => `${r.path === "/" ? "" : `${r.path} `}${r.commands}`).join(", "),
  };
}

async function pulselockJob(locker, key) {
  const marks = {};
  const res = await locker.acquireAndRun(key, async () => {
    marks.jobStarted = performance.now();
  });
  if (res.status !== LockStatus.SUCCESS) throw new Error(`pulselock: ${key} was held`);
  return marks;
}

/**
 * pulselock: a fresh `pulselock/core` Locker (in-thread liveness that rests when nothing is held, as in
 * a Worker or an edge function) over @upstash/redis with its defaults, first job of a new isolate, then
 * `repeats` more jobs once the isolate has gone idle again. Scripts are already in Redis's script cache
 * (a warm-up Locker ran first), as they are on any server that has seen pulselock before.
 */
export async function measureUpstashRequests({ rest, repeats = 5 }) {
  const warm = new Locker({ database: new RedisDatabase(upstash(rest), { prefix: "req:warm:" }) });
  await pulselockJob(warm, "w");
  await warm.terminate();

  const locker = new Locker({ database: new RedisDatabase(upstash(rest), { prefix: "req:pl:" }) });
  const first = tally(await countRequests(() => pulselockJob(locker, "job")));
  const again = [];
  for (let i = 0; i < repeats; i++) again.push(tally(await countRequests(() => pulselockJob(locker, `job${i}`))));
  await locker.terminate();

  const redis = upstash(rest);
  const peer = [];
  for (let i = 0; i <= repeats; i++) {
    peer.push(
      tally(
        await countRequests(async () => {
          const lock = new UpstashLock({ id: `req:ul:job${i}`, redis, lease: LEASE_MS, retry: { attempts: 1, delay: 1 } });
          if (!(await lock.acquire())) throw new Error("@upstash/lock: held");
          const marks = { jobStarted: performance.now() };
          await lock.release();
          return marks;
        }),
      ),
    );
  }
  return { counting: "a counting wrapper around globalThis.fetch in the bench process", pulselock: { first, again }, upstashLock: peer };
}
