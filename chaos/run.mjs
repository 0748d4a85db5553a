// pulselock's chaos harness: `npm run chaos -- --minutes N --seed S [--out DIR] [--cluster]`.
//
// 6 Node worker processes and 2 workerd isolates (Miniflare) compete for 16
// keys with acquireAndRun(); every run writes its record to a fenced store
// held here. Some jobs act on their own timer, and now and then a participant
// misuses release(). Meanwhile a seeded fault injector kills, freezes, blocks
// and partitions participants and crashes, pauses, wipes and pokes Redis. With
// --cluster, Redis is a 3-master Redis Cluster and the fleet is Node workers
// only (upstash-dev fronts one server). After N minutes
// it stops by itself, lets everything settle, and chaos/check.mjs judges the
// history. Exit code 0 only when there is no violation. See docs/chaos.md.
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import calculateSlot from "cluster-key-slot";
import { Cluster, Redis } from "ioredis";
import { startCluster } from "../test/support/redis-cluster.mjs";
import { startRedis } from "../test/support/redis-server.mjs";
import { checkHistory, formatReport } from "./check.mjs";
import { bundleEdgeWorker, runEdgeLoop, startEdgeSlot } from "./edge-participants.mjs";
import { FAULT_KINDS, FAULTS } from "./faults.mjs";
import { FencedStore } from "./fenced-store.mjs";
import { now, openHistory } from "./history.mjs";
import { startNodeSlot } from "./node-participants.mjs";
import { createRandom } from "./prng.mjs";
import { lockKey, readHolder, whileRedisUp } from "./redis-probe.mjs";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "2" },
    seed: { type: "string" },
    out: { type: "string" },
    workers: { type: "string", default: "6" },
    isolates: { type: "string", default: "2" },
    keys: { type: "string", default: "16" },
    cluster: { type: "boolean", default: false },
    "fault-gap-ms": { type: "string", default: "1500-4000" },
  },
});
const cluster = args.cluster;
const isolates = cluster ? 0 : Number(args.isolates);
const minutes = Number(args.minutes);
if (!(minutes > 0 && minutes <= 120)) throw new Error(`--minutes must be in (0, 120], got ${args.minutes}`);
const seed = args.seed ?? String(Math.floor(Math.random() * 2 ** 32));
const outDir = resolve(args.out ?? join(".tmp", "chaos", `seed-${seed}-${new Date().toISOString().replace(/[:.]/g, "-")}`));
const KEYS = Array.from({ length: Number(args.keys) }, (_, i) => `job-${i}`);
/** Node workers take a permit of one of these semaphores in a share of their attempts (chaos/worker.mjs). */
const SEMAPHORES = { keys: ["sem-0", "sem-1"], limit: 2, odds: 0.2 };
process.env.CHAOS_SEMAPHORES = JSON.stringify(SEMAPHORES); // the forked workers inherit it
/** Short liveness, so that takeovers happen within a second; lockTtlMs longer than any block the injector makes. */
const TIMINGS = { reportWriteMs: 200, reportTtlMs: 1000, lockRecheckMs: 250, lockExtendMs: 2000, lockTtlMs: 8000 };
/** Timestamps of different processes on one machine agree to about a millisecond. */
const SLACK_MS = 5;
/** How soon a process that runs again after SIGCONT or a block must have fired its overdue abort. */
const RESUME_MS = 200;
/** The pause between two faults, drawn in [min, max] ms. */
const FAULT_GAP_MS = args["fault-gap-ms"].split("-").map(Number);
if (!(FAULT_GAP_MS.length === 2 && FAULT_GAP_MS[0] > 0 && FAULT_GAP_MS[1] >= FAULT_GAP_MS[0])) {
  throw new Error(`--fault-gap-ms must be "min-max" with 0 < min <= max, got ${args["fault-gap-ms"]}`);
}

const random = createRandom(seed);
const history = openHistory(join(outDir, "history.jsonl"));
const log = history.log;
log({
  type: "meta",
  seed,
  minutes,
  cluster,
  faultGapMs: FAULT_GAP_MS,
  keys: KEYS,
  semaphores: SEMAPHORES,
  options: TIMINGS,
  slackMs: SLACK_MS,
  resumeMs: RESUME_MS,
  workers: Number(args.workers),
  isolates,
});
console.log(`chaos: seed ${seed}, ${minutes} min${cluster ? ", Redis Cluster" : ""}, history ${history.file}`);
process.on("unhandledRejection", (error) => log({ type: "unhandled", worker: "orchestrator", error: String(error?.stack ?? error) }));

// ------------------------------------------------------------ Redis and the fenced store
// appendfsync always: a crash-restart keeps every acknowledged write; the data-loss fault deletes the AOF.
const AOF = ["--appendonly", "yes", "--appendfsync", "always"];
const redisCluster = cluster ? await startCluster({ masters: 3, extraArgs: AOF }) : undefined;
/** Every redis-server (a cluster's masters): the Redis faults pick one. */
const redisServers = redisCluster ? redisCluster.nodes : [await startRedis({ extraArgs: AOF })];
const redisTarget = { ports: redisServers.map((r) => r.port), cluster };
const admin = redisCluster
  ? new Cluster(redisCluster.startupNodes, { redisOptions: { maxRetriesPerRequest: null } })
  : new Redis(redisServers[0].url, { maxRetriesPerRequest: null });
admin.on("error", () => {}); // it reconnects after each Redis restart
/** Clients of each node, for the commands that act on one node (SCRIPT FLUSH, CLIENT KILL). */
const adminNodes = () => (redisCluster ? admin.nodes("master") : [admin]);
/** The redis-server that holds a lock name's records (on a cluster: the master serving its slot now). */
function serverOf(key) {
  if (!redisCluster) return redisServers[0];
  const address = admin.slots[calculateSlot(lockKey(key))]?.[0];
  return redisServers.find((r) => address === `127.0.0.1:${r.port}`) ?? random.pick(redisServers);
}
const store = new FencedStore();
let writeSeq = 0;
const nodeSlots = [];
const edgeSlots = [];
/** run → its run-start event and when its job plans to return (endsAt), until its run-end. */
const openRuns = new Map();
const runStartWaiters = new Set();
/** Resolves with the next run of `key` that another worker than `worker` starts, or undefined after timeoutMs. */
function nextRunStart(key, worker, timeoutMs) {
  return new Promise((resolve) => {
    const done = (run) => {
      runStartWaiters.delete(waiter);
      clearTimeout(timer);
      resolve(run);
    };
    const waiter = (e) => e.key === key && e.worker !== worker && done(e.run);
    const timer = setTimeout(done, timeoutMs);
    runStartWaiters.add(waiter);
  });
}
/** The slot of a worker incarnation name ("e1.3" → slot e1). */
const slotOf = (worker) => [...nodeSlots, ...edgeSlots].find((s) => String(worker).startsWith(`${s.name}.`));

function onEvent(slot, e) {
  switch (e.type) {
    case "write": {
      // A semaphore's permits are held at once by design: one fenced store per key would refuse all but the newest.
      if (e.semaphore) return log({ ...e, seq: writeSeq++ });
      const { accepted, highest } = store.write(e);
      log({ ...e, seq: writeSeq++, accepted, highest });
      return;
    }
    case "run-start":
      slot.open.set(e.run, e.key);
      openRuns.set(e.run, { ...e, endsAt: e.start + e.workMs });
      if (e.processHash) slot.processHashes.add(e.processHash);
      log({ ...e, kind: slot.kind });
      for (const waiter of runStartWaiters) waiter(e);
      return;
    case "run-end":
      slot.open.delete(e.run);
      openRuns.delete(e.run);
      log(e);
      return;
    case "idle":
      slot.idle = true;
      log(e);
      return;
    default:
      log(e);
  }
}

const storeServer = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    try {
      const event = JSON.parse(body);
      onEvent(slotOf(event.worker), event);
      res.writeHead(204).end();
    } catch (error) {
      log({ type: "unhandled", worker: "store", error: String(error) });
      res.writeHead(400).end();
    }
  });
});
await new Promise((r) => storeServer.listen(0, "127.0.0.1", r));
const storeUrl = `http://127.0.0.1:${storeServer.address().port}/event`;

// ------------------------------------------------------------ participants
for (let i = 0; i < Number(args.workers); i++) {
  const slot = await startNodeSlot({ index: i, redis: redisTarget, keys: KEYS, timings: TIMINGS, seed, onEvent, log });
  nodeSlots.push(slot);
}
const edgeLoops = [];
if (isolates > 0) {
  const script = await bundleEdgeWorker();
  for (let i = 0; i < isolates; i++) {
    const slot = await startEdgeSlot({ index: i, redisPort: redisServers[0].port, script, storeUrl, timings: TIMINGS, log });
    edgeSlots.push(slot);
    edgeLoops.push(runEdgeLoop(slot, { random: createRandom(`${seed}/${slot.worker}`), keys: KEYS, log }));
  }
}

// ------------------------------------------------------------ faults
const probes = new Set();
const ctx = {
  random,
  nodeSlots,
  edgeSlots,
  redisServers,
  admin,
  adminNodes,
  serverOf,
  openRuns,
  nextRunStart,
  log,
  timings: TIMINGS,
  pending: new Set(),
  /**
   * After reportTtlMs + 1 s, every key a dead (killed, or still frozen) worker held must be takeable:
   * its holder's liveness record gone.
   */
  onDead({ held, hashes, killedAt, worker }) {
    for (const key of held) {
      const probe = (async () => {
        await new Promise((r) => setTimeout(r, Math.max(0, killedAt + TIMINGS.reportTtlMs + 1000 - now())));
        const holder = await whileRedisUp(() => readHolder(admin, key));
        const held = Boolean(holder && hashes.includes(holder.processHash) && holder.alive);
        log({ type: "probe", worker, key, killedAt, held, holder: holder?.processHash ?? null });
      })().catch((error) => log({ type: "unhandled", worker: "orchestrator", error: `probe: ${error.stack}` }));
      probes.add(probe);
    }
  },
};

const endAt = now() + minutes * 60_000;
let bag = [];
while (now() < endAt) {
  await new Promise((r) => setTimeout(r, Math.min(random.int(...FAULT_GAP_MS), Math.max(0, endAt - now()))));
  if (now() >= endAt) break;
  if (bag.length === 0) bag = random.shuffle(FAULT_KINDS); // every kind once per round, in a seeded order
  const kind = bag.shift();
  const done = await FAULTS[kind](ctx);
  if (!done) bag.push(kind); // no target free right now: try it later in this round
}

// ------------------------------------------------------------ settle and stop
console.log("chaos: time is up; undoing faults and stopping participants");
await Promise.all(ctx.pending);
await Promise.all(probes);
// Told again every half second: a worker started a moment ago may not have been listening yet.
const tell = (type, unless) => {
  for (const slot of nodeSlots) if (!unless(slot) && slot.child.connected) slot.child.send({ type }, () => {}); // a channel closing meanwhile is no failure
};
const stopping = setInterval(() => tell("stop", (s) => s.idle), 500);
tell("stop", (s) => s.idle);
await Promise.all(edgeLoops.map((loop) => loop.stop()));
const idleBy = now() + 30_000;
while (nodeSlots.some((s) => !s.idle) && now() < idleBy) await new Promise((r) => setTimeout(r, 50));
clearInterval(stopping);
for (const slot of nodeSlots) if (!slot.idle) log({ type: "note", worker: slot.worker, note: "not idle 30 s after stop" });
// Everyone is idle: a lock record still held under a live identity was never released.
for (const key of KEYS) {
  const holder = await whileRedisUp(() => readHolder(admin, key));
  if (holder) {
    const owner = [...nodeSlots, ...edgeSlots].find((s) => s.processHashes.has(holder.processHash))?.worker ?? "unknown";
    log({ type: "leftover", key, owner, processHash: holder.processHash, alive: holder.alive });
  }
}
for (const slot of nodeSlots) slot.finishing = true;
const exiting = setInterval(() => tell("exit", () => false), 500);
tell("exit", () => false);
const exitBy = setTimeout(() => nodeSlots.forEach((s) => s.child.kill("SIGKILL")), 15_000);
await Promise.all(nodeSlots.map((s) => s.exited));
clearTimeout(exitBy);
clearInterval(exiting);
for (const slot of edgeSlots) await slot.close();
for (const slot of nodeSlots) await slot.proxy.close();
admin.disconnect();
if (redisCluster) await redisCluster.close();
else await redisServers[0].close();
await new Promise((r) => storeServer.close(r));
log({ type: "end" });
await history.close();

const result = checkHistory(history.events);
const report = formatReport(result);
writeFileSync(join(outDir, "report.txt"), `seed ${seed}, ${minutes} min${cluster ? ", Redis Cluster" : ""}\n${report}\n`);
const counts = Object.fromEntries(Object.entries(result.violations).map(([id, list]) => [id, list.length]));
writeFileSync(
  join(outDir, "summary.json"),
  JSON.stringify({ seed, minutes, cluster, total: result.total, violations: counts, figures: result.figures }, null, 2),
);
console.log(report);
console.log(`chaos: history ${history.file}; reproduce with: npm run chaos -- --minutes ${minutes} --seed ${seed}${cluster ? " --cluster" : ""}`);
process.exit(result.total === 0 ? 0 : 1);
