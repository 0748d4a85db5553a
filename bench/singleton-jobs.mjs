// Singleton jobs: N unique job keys, each run once, across 4 worker
// processes. pulselock runs them with acquireAndRun (64 at a time per
// process); BullMQ 6 runs the same jobs with unique jobIds and a Worker of
// concurrency 64 per process, its add step included in time and commands.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { IOREDIS_OPTIONS } from "./lib/clients.mjs";
import { withDeadline } from "./lib/loop.mjs";
import { commandCalls, describeCalls, resetStats, serverCpuSeconds, totalCalls } from "./lib/redis-stats.mjs";

export const WORKERS = 4;
export const CONCURRENCY = 64;
const ADD_BATCH = 1000;
/** Jobs each library runs before the clock starts, so that neither is measured with cold (unoptimised) code. */
const WARMUP_JOBS = 1000;
/** Generous: even a busy 2-core machine runs well over 200 jobs/s with either library. */
const deadlineMs = (jobs) => 60_000 + jobs * 5;

const workerPath = (name) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));

/** Forks a worker and resolves once it says "ready"; events after that go to onMessage. */
function forkReady(file, args, onMessage) {
  const child = fork(workerPath(file), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise((r) => child.once("exit", r));
  const ready = new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${file} exited with code ${code} before it was ready`)));
    child.on("message", (m) => (m.type === "ready" ? resolve() : onMessage(m)));
  });
  return { child, ready, exited };
}

function killAll(children) {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

async function runPulselock({ redis, admin, jobs }) {
  let done = 0;
  let failed = 0;
  let finished = 0;
  let workerCpuUs = 0;
  let allDone;
  const finishedAll = new Promise((r) => (allDone = r));
  const children = Array.from({ length: WORKERS }, (_, i) =>
    forkReady(
      "singleton-pulselock.mjs",
      [redis.url, "s:pl:", String(i), String(WORKERS), String(jobs), String(CONCURRENCY), String(WARMUP_JOBS / WORKERS)],
      (m) => {
        if (m.type !== "done") return;
        done += m.done;
        failed += m.failed;
        workerCpuUs += m.cpuUs;
        if (++finished === WORKERS) allDone();
      },
    ),
  );
  try {
    await withDeadline(Promise.all(children.map((c) => c.ready)), 60_000, "starting the workers");
    await resetStats(admin);
    const serverCpu = await serverCpuSeconds(admin);
    const start = performance.now();
    for (const { child } of children) child.send("start");
    await withDeadline(finishedAll, deadlineMs(jobs), "the singleton jobs");
    const ms = performance.now() - start;
    const calls = await commandCalls(admin);
    const redisUs = ((await serverCpuSeconds(admin)) - serverCpu) * 1e6;
    await Promise.all(children.map((c) => c.exited));
    if (done !== jobs) throw new Error(`pulselock ran ${done} of ${jobs} jobs (${failed} found their key held)`);
    // Every command pulselock sends is a script call; everything else ran inside Lua.
    const sent = (calls.evalsha ?? 0) + (calls.eval ?? 0);
    return {
      jobsPerSec: (jobs / ms) * 1000,
      commandsPerJob: totalCalls(calls) / jobs,
      sentPerJob: sent / jobs,
      clientCpuUsPerJob: workerCpuUs / jobs,
      redisCpuUsPerJob: redisUs / jobs,
      breakdown: describeCalls(calls, jobs),
      ms,
    };
  } finally {
    killAll(children);
  }
}

async function runBullmq({ redis, admin, jobs }) {
  const queueName = `bench-${process.pid}`;
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null, ...IOREDIS_OPTIONS };
  const queue = new Queue(queueName, { connection });
  await queue.waitUntilReady();
  let done = 0;
  let target = WARMUP_JOBS;
  let workerCpuUs = 0;
  let cpuReports = 0;
  let reached;
  let allCpu;
  const cpuReported = new Promise((r) => (allCpu = r));
  const children = Array.from({ length: WORKERS }, () =>
    forkReady("singleton-bullmq.mjs", [redis.host, String(redis.port), queueName, String(CONCURRENCY)], (m) => {
      if (m.type === "progress" && (done += m.done) >= target) reached?.();
      if (m.type === "cpu" && ((workerCpuUs += m.cpuUs), ++cpuReports === WORKERS)) allCpu();
    }),
  );
  const addJobs = async (prefix, count) => {
    for (let from = 0; from < count; from += ADD_BATCH) {
      const batch = [];
      for (let i = from; i < Math.min(count, from + ADD_BATCH); i++) {
        batch.push({ name: "job", data: {}, opts: { jobId: `${prefix}-${i}`, removeOnComplete: true, removeOnFail: true } });
      }
      await queue.addBulk(batch);
    }
  };
  try {
    await withDeadline(Promise.all(children.map((c) => c.ready)), 60_000, "starting the workers");
    const warmedUp = new Promise((r) => (reached = r));
    await addJobs("warmup", WARMUP_JOBS);
    await withDeadline(warmedUp, deadlineMs(WARMUP_JOBS), "BullMQ's warm-up jobs");
    target = WARMUP_JOBS + jobs;
    const finishedAll = new Promise((r) => (reached = r));
    await resetStats(admin);
    const serverCpu = await serverCpuSeconds(admin);
    for (const { child } of children) child.send("start");
    const parentCpu = process.cpuUsage();
    const start = performance.now();
    // Unique jobIds (the job keys); removed on completion, as a deployment that only wants each job run once would.
    await addJobs("job", jobs);
    await withDeadline(finishedAll, deadlineMs(jobs), "the singleton jobs");
    const ms = performance.now() - start;
    const { user, system } = process.cpuUsage(parentCpu);
    const calls = await commandCalls(admin);
    const redisUs = ((await serverCpuSeconds(admin)) - serverCpu) * 1e6;
    for (const { child } of children) child.send("stop");
    await withDeadline(cpuReported, 30_000, "the BullMQ workers' CPU reports");
    await Promise.all(children.map((c) => c.exited));
    return {
      jobsPerSec: (jobs / ms) * 1000,
      commandsPerJob: totalCalls(calls) / jobs,
      // The adding process's CPU counts too (it does little else meanwhile).
      clientCpuUsPerJob: (workerCpuUs + user + system) / jobs,
      redisCpuUsPerJob: redisUs / jobs,
      breakdown: describeCalls(calls, jobs),
      ms,
    };
  } finally {
    killAll(children);
    await queue.close();
  }
}

const describeRun = (r) =>
  `${Math.round(r.jobsPerSec)} jobs/s, ${r.commandsPerJob.toFixed(2)} cmds/job, CPU/job ${r.clientCpuUsPerJob.toFixed(0)} µs clients, ` +
  `${r.redisCpuUsPerJob.toFixed(0)} µs Redis (${r.breakdown})`;

export async function measureSingletonJobs({ redis, admin, jobs, log }) {
  await admin.flushall();
  const pulselock = await runPulselock({ redis, admin, jobs });
  log(`  pulselock: ${describeRun(pulselock)}`);
  await admin.flushall();
  const bullmq = await runBullmq({ redis, admin, jobs });
  log(`  BullMQ: ${describeRun(bullmq)}`);
  return { jobs, workers: WORKERS, concurrency: CONCURRENCY, pulselock, bullmq };
}
