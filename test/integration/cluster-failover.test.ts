/*
 * Redis Cluster failover (issue 3, item 5): SIGKILL a master that holds locks,
 * let its replica be promoted, and check that every owner either keeps its
 * lock or learns that it lost it (seppuku) before any other process runs the
 * same key.
 *
 * The scenario: 3 masters with one replica each. Owner A1 (liveness record on
 * the master we kill) and owner A2 (liveness record on another master) each
 * run 9 jobs, 3 on every master; contender B polls every key all along and
 * keeps what it gets. The master is SIGKILLed, its replica is promoted, and
 * only after A1 aborted does the old master come back as the new replica.
 *
 * What this proves, with RedisDatabase({ waitForReplicas: 1 }) and one
 * replica per master:
 *
 * - Every lock that pulselock reported as held was on the replica when the
 *   acquire returned (WAIT 1 after the acquire script; a write no replica
 *   acknowledged in time makes acquire throw NOREPLICAS, and it is released).
 *   So is every extension and every liveness write that moved an owner's
 *   self-fencing deadline: a write that was not replicated does not count.
 *   Redis replicates asynchronously, so the last writes before the kill can
 *   be lost, but only writes that no owner counted on. The promoted replica
 *   therefore holds every lock record and liveness record an owner relies on.
 *   (With several replicas, WAIT 1 means "some replica"; Redis prefers the
 *   most up-to-date one in the election, but that is not tested here.)
 * - So an owner whose liveness record lives on a surviving shard keeps its
 *   locks; nobody else gets them (A2). Its locks on the failed shard survive
 *   as well, but see the note on spurious aborts at the assertions.
 * - An owner whose liveness record lived on the failed shard loses it: its
 *   writes fail during the failover, and after it they cannot be replicated
 *   until the shard has a replica again. Its runs abort at the self-fencing
 *   deadline (send time of the last *replicated* liveness write + reportTtlMs,
 *   less drift and margin), before the promoted master can expire that
 *   record, which is the earliest moment anyone may take its locks. So every
 *   run of A1 aborts at tA <= tB, the moment B's acquire of that key returned.
 * - Fencing tokens: a takeover reads the previous record (replicated, so the
 *   promoted master has it) and issues max(TIME in µs, previous + 1): every
 *   token B got is greater than A's for that key, and after the failover a
 *   fresh acquire of every key gets a token above all earlier ones. Where the
 *   previous record is gone (released, expired), the token rests on the new
 *   master's clock alone: tokens then keep growing across a failover only if
 *   that clock is not behind the old master's (here all nodes share one).
 *
 * Not tested, only noted: without waitForReplicas, an acquire or extension
 * acknowledged just before the kill may be missing on the promoted replica.
 * Another process can then acquire a lock whose owner still believes it holds
 * it, and both run until the owner's next recheck (lockRecheckMs) finds the
 * other record. The newer holder still gets a greater token (Redis clock),
 * so a resource that refuses tokens lower than the highest it has seen stays
 * safe; only exclusivity of the runs themselves is lost for that while.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LockStatus,
  Locker,
  isLockError,
  isRunEndedError,
  isRedisCommandError,
  type LockData,
  type LockerOptions,
  type RedisDatabase,
  type RedisDatabaseOptions,
  type RunResult,
} from "pulselock";
import { clusterSlot } from "../../src/cluster-slot";
import { clusterContext, type ClusterContext } from "../support/cluster-context";
import { redisCli } from "../support/redis-cluster.mjs";
import { waitFor } from "../support/wait-for";

// 1 s for a replica's ack: under the whole suite on 2 cores one took longer than 500 ms before any failover (an
// acquire then failed with NOREPLICAS, as it should); still well inside reportTtlMs.
const REPLICATED: RedisDatabaseOptions = { waitForReplicas: 1, replicationTimeoutMs: 1000 };
/** Liveness lapses about 3 s after the last replicated write; the failover (node timeout 2 s) takes about as long. */
const TIMINGS: Partial<LockerOptions> = {
  reportWriteMs: 300,
  reportTtlMs: 3000,
  lockRecheckMs: 100,
  // Extensions happen during the failover too (and fail WAIT until the shard has a replica again).
  lockExtendMs: 1000,
  lockTtlMs: 30_000,
};
const KEYS_PER_MASTER = 3;
/** Bounds for things that take seconds; generous on purpose, a slow machine is not a failure. */
const SLOW = { timeoutMs: 30_000, intervalMs: 100 };

let ctx: ClusterContext;
const lockers: Locker[] = [];
const backgroundErrors: { who: string; error: unknown }[] = [];
/** Stops background loops when the test ends early. */
const cleanups: (() => void)[] = [];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A check for waitFor(): true once `promise` has settled (it must not reject). */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  void promise.finally(() => (done = true));
  return () => done;
}

function database(options: RedisDatabaseOptions): RedisDatabase {
  return (ctx.database as (o?: RedisDatabaseOptions) => RedisDatabase)(options);
}

function locker(who: string, options: Partial<LockerOptions> = {}): Locker {
  const l = new Locker({ database: database(REPLICATED), ...TIMINGS, ...options });
  l.errors.subscribe(({ type, error }) => backgroundErrors.push({ who: `${who}/${type}`, error }));
  lockers.push(l);
  return l;
}

interface ClusterNode {
  id: string;
  port: number;
  flags: string[];
  masterId: string | undefined;
  slots: [number, number][];
}

/** CLUSTER NODES as seen by the node on `port`. */
async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const out = await redisCli(["-p", String(port), "cluster", "nodes"], { timeoutMs: 5000 });
  return out
    .trim()
    .split("\n")
    .map((line) => {
      const parts = line.trim().split(" ");
      return {
        id: parts[0]!,
        port: Number(parts[1]!.split("@")[0]!.split(":")[1]),
        flags: parts[2]!.split(","),
        masterId: parts[3] === "-" ? undefined : parts[3],
        slots: parts
          .slice(8)
          .filter((s) => !s.startsWith("["))
          .map((s) => {
            const [a, b = a] = s.split("-").map(Number);
            return [a!, b!] as [number, number];
          }),
      };
    });
}

const servesSlot = (n: ClusterNode, slot: number) => n.slots.some(([a, b]) => slot >= a && slot <= b);

async function clusterOk(port: number): Promise<boolean> {
  const out = await redisCli(["-p", String(port), "cluster", "info"], { timeoutMs: 5000 });
  return out.includes("cluster_state:ok");
}

const fullLockKey = (db: RedisDatabase, name: string) => db.transport.clientKeyPrefix + db.lockKey(name);
const livenessKey = (processHash: string) => `${ctx.prefix}pl:proc:${processHash}`;

/** One job of an owner, and what the contender saw of its key. */
interface Job {
  owner: "A1" | "A2";
  name: string;
  /** The master port that served the key's slot before the kill. */
  master: number;
  token?: number;
  extendedAt?: string;
  startedAt?: number;
  abortedAt?: number;
  abortReason?: unknown;
  outcome?: RunResult<void>;
  error?: unknown;
  done?: Promise<void>;
  /** The contender's first success on this key: when its acquire resolved, and the token. */
  takenAt?: number;
  takenToken?: number;
  lastTriedAt?: number;
}

beforeAll(async () => {
  ctx = await clusterContext({ replicasPerMaster: 1 });
});

afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  await Promise.all(lockers.map((l) => l.terminate().catch(() => {})));
  await ctx?.close();
});

describe("Redis Cluster failover", () => {
  it("each owner keeps its lock or aborts before anyone else runs the key; tokens keep growing", async () => {
    const ports = ctx.cluster.nodes.map((n) => n.port);
    // Replicas are attached by gossip after the cluster forms: wait until every node sees every master with a
    // replica, and every replica is in sync, so that WAIT 1 can succeed everywhere.
    const topology = await waitFor(
      "three masters with a synced replica each",
      async () => {
        const views = await Promise.all(ports.map(clusterNodes));
        const complete = views.every((view) => {
          const ms = view.filter((n) => n.flags.includes("master") && n.slots.length > 0);
          return ms.length === 3 && ms.every((m) => view.some((n) => n.masterId === m.id && n.flags.includes("slave")));
        });
        if (!complete) return undefined;
        const replicas = views[0]!.filter((n) => n.flags.includes("slave"));
        const infos = await Promise.all(replicas.map((r) => redisCli(["-p", String(r.port), "info", "replication"], { timeoutMs: 5000 })));
        return infos.every((i) => i.includes("master_link_status:up")) ? views[0] : undefined;
      },
      SLOW,
    );
    const masters = topology.filter((n) => n.flags.includes("master") && n.slots.length > 0);
    expect(masters).toHaveLength(3);
    // A replica that rejoins gets its full sync at once, not after the default 5 s diskless-sync delay.
    for (const port of ports) await redisCli(["-p", String(port), "config", "set", "repl-diskless-sync-delay", "0"]);
    const masterOf = (slot: number) => masters.find((m) => servesSlot(m, slot))!.port;

    // Two owners whose liveness records live on different masters: A1's master is the one killed.
    const probe = async (l: Locker) => {
      const name = `probe-${crypto.randomUUID()}`;
      // A loaded machine may miss one WAIT (a transient NOREPLICAS): the setup retries it, the library rightly does not.
      const res = await waitFor(
        "a probe lock",
        () =>
          l.acquire(name).catch((e: unknown) => {
            if (isRedisCommandError(e) && e.transient) return undefined;
            throw e;
          }),
        SLOW,
      );
      if (res.status !== LockStatus.SUCCESS) throw new Error("probe not acquired");
      await l.release(name, res.lockData);
      return masterOf(clusterSlot(livenessKey(res.lockData.processHash)));
    };
    const a1 = locker("A1");
    const victimPort = await probe(a1);
    let a2 = locker("A2");
    for (let i = 0; (await probe(a2)) === victimPort; i++) {
      if (i >= 20) throw new Error("could not place A2's liveness record on another master");
      await a2.terminate();
      a2 = locker("A2");
    }
    const victim = masters.find((m) => m.port === victimPort)!;
    const replica = topology.find((n) => n.masterId === victim.id)!;
    expect(replica).toBeDefined();
    const victimNode = ctx.cluster.node(victimPort)!;
    const survivors = ports.filter((p) => p !== victimPort);

    // KEYS_PER_MASTER keys on every master for each owner.
    const keyDb = database({});
    const jobs: Job[] = [];
    for (const owner of ["A1", "A2"] as const) {
      const count = new Map<number, number>();
      while (masters.some((m) => (count.get(m.port) ?? 0) < KEYS_PER_MASTER)) {
        const name = `failover-${owner}-${crypto.randomUUID()}`;
        const master = masterOf(clusterSlot(fullLockKey(keyDb, name)));
        if ((count.get(master) ?? 0) >= KEYS_PER_MASTER) continue;
        count.set(master, (count.get(master) ?? 0) + 1);
        jobs.push({ owner, name, master });
      }
    }

    let stopJobs!: () => void;
    const jobsStopped = new Promise<void>((r) => (stopJobs = r));
    let stopping = false;
    cleanups.push(() => ((stopping = true), stopJobs()));
    for (const job of jobs) {
      const owner = job.owner === "A1" ? a1 : a2;
      job.done = owner
        .acquireAndRun(job.name, async (heartbeat) => {
          job.token = heartbeat.lockData.fencingToken;
          job.extendedAt = heartbeat.lockData.extendedAt;
          heartbeat.signal.addEventListener(
            "abort",
            () => {
              // The signal also aborts when the job returns (RunEndedError): only a lost lock counts here.
              if (isRunEndedError(heartbeat.signal.reason)) return;
              job.abortedAt = performance.now();
              job.abortReason = heartbeat.signal.reason;
            },
            { once: true },
          );
          job.startedAt = performance.now();
          while (!stopping) {
            // A heartbeat may wait for a reply from the dead master; stopping does not wait for it.
            await Promise.race([heartbeat.delay(50), jobsStopped]);
            job.extendedAt = heartbeat.lockData.extendedAt;
          }
        })
        .then(
          (outcome) => void (job.outcome = outcome),
          (error) => void (job.error = error),
        );
    }
    await waitFor("every job running", () => jobs.every((j) => j.startedAt !== undefined || j.outcome || j.error), SLOW);
    for (const job of jobs) {
      expect(job.outcome, job.name).toBeUndefined();
      expect(job.error, job.name).toBeUndefined();
    }

    // The contender polls every key all along and keeps whatever it gets.
    const b = locker("B");
    let contending = true;
    cleanups.push(() => (contending = false));
    const contenderErrors: unknown[] = [];
    const contend = async (job: Job) => {
      while (contending && job.takenAt === undefined) {
        try {
          const res = await b.acquire(job.name);
          job.lastTriedAt = performance.now();
          if (res.status === LockStatus.SUCCESS) {
            job.takenAt = performance.now();
            job.takenToken = res.lockData.fencingToken;
            return;
          }
        } catch (error) {
          // CLUSTERDOWN, NOREPLICAS, connection errors while the shard fails over: retry.
          contenderErrors.push(error);
        }
        await sleep(50);
      }
    };
    const contenders = jobs.map(contend);
    await waitFor("the contender tried every key", () => jobs.every((j) => j.lastTriedAt !== undefined), SLOW);
    expect(jobs.filter((j) => j.takenAt !== undefined)).toEqual([]);

    // Kill the master that holds A1's liveness record and a third of each owner's locks.
    const onVictim = jobs.filter((j) => j.master === victimPort);
    const heldBeforeKill = onVictim.filter((j) => j.abortedAt === undefined && !j.outcome && !j.error);
    expect(heldBeforeKill.length).toBeGreaterThanOrEqual(1);
    const killedAt = performance.now();
    victimNode.signal("SIGKILL");

    // The replica is promoted and serves the slots; the surviving nodes agree the cluster is whole.
    await waitFor(
      `replica ${replica.port} promoted`,
      async () => {
        const view = await clusterNodes(survivors[0]!);
        const promoted = view.find((n) => n.id === replica.id);
        return promoted?.flags.includes("master") && !promoted.flags.some((f) => f.startsWith("fail")) && promoted.slots.length > 0;
      },
      SLOW,
    );
    await waitFor("cluster_state:ok on the survivors", async () => (await Promise.all(survivors.map(clusterOk))).every(Boolean), SLOW);
    const promotedAt = performance.now();

    // The promoted master has no replica until the old one comes back, so no write of A1's liveness record
    // can be replicated (WAIT 1 fails) and none counts: A1 must learn, at its self-fencing deadline, that it lost
    // every lock. Only then does the old master come back; this makes the seppuku branch certain, even when
    // the promotion itself was quick.
    await waitFor("A1 aborted every run", () => jobs.every((j) => j.owner !== "A1" || j.abortedAt !== undefined), SLOW);

    // The killed node comes back (nodes.conf kept, no data) as a replica of the new master, so WAIT 1 works again there.
    await victimNode.restart();
    await waitFor(
      "the old master rejoined as a replica of the promoted one",
      async () => {
        const self = (await clusterNodes(victimPort)).find((n) => n.flags.includes("myself"));
        if (!self?.flags.includes("slave") || self.masterId !== replica.id) return false;
        const info = await redisCli(["-p", String(victimPort), "info", "replication"], { timeoutMs: 5000 });
        return info.includes("master_link_status:up");
      },
      SLOW,
    );
    await ctx.cluster.waitOk();
    const healedAt = performance.now();
    const healedWallClock = Date.now(); // extendedAt is stamped with the Redis clock, which is this machine's

    // Run on until every lock was either extended (and replicated) after the heal, or taken over by the
    // contender after its owner aborted; and until the contender tried every key after the heal.
    const describeJobs = () =>
      jobs
        .map(
          (j) =>
            `${j.owner} ${j.master === victimPort ? "failed " : "healthy"} aborted=${j.abortedAt === undefined ? "-" : Math.round(j.abortedAt - killedAt)}` +
            ` taken=${j.takenAt === undefined ? "-" : Math.round(j.takenAt - killedAt)} lastTried=${Math.round((j.lastTriedAt ?? 0) - killedAt)}` +
            ` extendedAt=${Date.parse(j.extendedAt ?? "0") - healedWallClock} outcome=${j.outcome?.status ?? "-"} error=${j.error ? String(j.error) : "-"}`,
        )
        .join("\n");
    await waitFor(
      "every lock extended after the heal or taken over, and contended after the heal",
      () =>
        jobs.every((j) => {
          if (j.takenAt !== undefined) return true;
          const contendedAfterHeal = (j.lastTriedAt ?? 0) > healedAt;
          // Kept: extended (and replicated) after the heal, and still refused to the contender.
          if (j.abortedAt === undefined) return contendedAfterHeal && Date.parse(j.extendedAt ?? "0") > healedWallClock;
          // A1 lost its liveness record, so the contender takes what A1 gave up within reportTtlMs.
          if (j.owner === "A1") return false;
          // A2 is alive and keeps its locks (asserted below); an abort here fails that assertion.
          return contendedAfterHeal;
        }),
      SLOW,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}\nheal ${Math.round(healedAt - killedAt)} ms after the kill\n${describeJobs()}\n` +
          `background errors: ${backgroundErrors
            .slice(-10)
            .map((e) => `${e.who}: ${String(e.error)}`)
            .join("\n")}\n` +
          `contender errors: ${contenderErrors.slice(-5).map(String).join("\n")}`,
      );
    });

    // Stop the contender first, so it cannot take a key that its owner released on purpose.
    contending = false;
    await waitFor("the contender stopped", settled(Promise.all(contenders)), SLOW);
    stopping = true;
    stopJobs();
    await waitFor("every job ended", settled(Promise.all(jobs.flatMap((j) => (j.done ? [j.done] : [])))), SLOW);

    const a1Jobs = jobs.filter((j) => j.owner === "A1");
    const a2Jobs = jobs.filter((j) => j.owner === "A2");
    const a1Aborted = a1Jobs.filter((j) => j.abortedAt !== undefined);
    console.log(
      `failover: promoted ${Math.round(promotedAt - killedAt)} ms after the kill, healed after ${Math.round(healedAt - killedAt)} ms; ` +
        `A1 aborted ${a1Aborted.length}/${a1Jobs.length} (first ${Math.round(Math.min(...a1Aborted.map((j) => j.abortedAt! - killedAt)))} ms after the kill); ` +
        `B took ${jobs.filter((j) => j.takenAt !== undefined).length} keys, smallest gap after the abort ` +
        `${Math.round(Math.min(...jobs.filter((j) => j.takenAt !== undefined).map((j) => j.takenAt! - j.abortedAt!)))} ms; ` +
        `A2 aborted ${a2Jobs.filter((j) => j.abortedAt !== undefined).length}/${a2Jobs.length}; contender errors: ${contenderErrors.length}`,
    );

    for (const job of jobs) {
      const label = `${job.owner} ${job.name} (on ${job.master === victimPort ? "the failed shard" : "a surviving shard"})`;
      expect(job.token, label).toBeGreaterThan(0);
      if (job.takenAt !== undefined) {
        // Seppuku before anyone else runs the key, and a greater token for the new holder.
        expect(job.abortedAt, label).toBeDefined();
        expect(job.abortedAt!, label).toBeLessThanOrEqual(job.takenAt);
        expect(job.takenToken!, label).toBeGreaterThan(job.token!);
      }
      if (job.abortedAt !== undefined) {
        // An abort means the lock is lost: the run ends with the LockError, never with success.
        expect(isLockError(job.abortReason), label).toBe(true);
        expect(isLockError(job.error), label).toBe(true);
      } else {
        // Kept: the run ends with success and the contender never got the key.
        expect(job.error, label).toBeUndefined();
        expect(job.outcome?.status, label).toBe(LockStatus.SUCCESS);
        expect(job.takenAt, label).toBeUndefined();
      }
    }
    // A2's liveness record lived on a surviving shard: it keeps every lock, those on the failed shard too (their
    // records survived on the promoted replica thanks to WAIT, and "Too many Cluster redirections" while the shard
    // had no master is a transient error that leaves safety to the self-fencing deadline).
    for (const job of a2Jobs) {
      expect(job.abortedAt, `A2 ${job.name}`).toBeUndefined();
      expect(job.takenAt, `A2 ${job.name}`).toBeUndefined();
    }
    // A1's liveness record lived on the failed shard: all of its locks may go, but only after it aborted
    // (checked above); every lock it gave up was taken by the contender, so the check had something to check.
    for (const job of a1Aborted) expect(job.takenAt, `A1 ${job.name}`).toBeDefined();

    // Afterwards, a fresh locker acquires every key with a token above every earlier one.
    // Terminated lockers delete their liveness records, so their locks are free at once.
    for (const l of [a1, a2, b]) await l.terminate();
    const c = locker("C");
    for (const job of jobs) {
      const res = await c.acquire(job.name);
      if (res.status !== LockStatus.SUCCESS) throw new Error(`fresh acquire of ${job.name} failed: ${JSON.stringify(res.lockData)}`);
      expect(res.lockData.fencingToken, job.name).toBeGreaterThan(Math.max(job.token!, job.takenToken ?? 0));
      expect((await c.release(job.name, res.lockData as LockData)).status).toBe(LockStatus.SUCCESS);
    }
  }, 90_000);
});
