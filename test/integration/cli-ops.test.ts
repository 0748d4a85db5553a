import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { LockStatus, type LockData } from "pulselock";
import type { ConformanceContext } from "../conformance/context";
import { useHarness } from "../conformance/harness";
import { clusterContext } from "../support/cluster-context";
import { ioredisContext } from "../support/ioredis-context";
import { CLI, runCli } from "../support/run-cli";
import { upstashContext } from "../support/upstash-context";
import { uniqueKey, waitFor } from "../support/wait-for";

/*
 * `pulselock inspect` and `pulselock release` as a user runs them (the built
 * bin, in a child process) against a real redis-server, a real 3-master
 * cluster and the Upstash REST server in front of Redis, with locks held by
 * real Lockers of this process: alive ones, and dead ones (a terminated
 * Locker's acquire() locks stay in Redis while its liveness record is gone).
 */
/** The CLI's connection options for a context: its URL or Upstash URL and token, and its key prefix. */
function connectArgs(ctx: ConformanceContext): string[] {
  const { url, prefix } = ctx.childArgs();
  if (url.startsWith("upstash:")) {
    const [restUrl, token] = url.slice("upstash:".length).split("#");
    return ["--upstash-url", restUrl!, "--upstash-token", token!, "--prefix", prefix];
  }
  if (url.startsWith("cluster:")) return ["--redis", `redis://127.0.0.1:${url.slice("cluster:".length).split(",")[0]}`, "--prefix", prefix];
  return ["--redis", url, "--prefix", prefix];
}

interface JsonRow {
  key: string;
  alive: boolean | null;
  owner: { processHash: string; trace?: string; process?: string };
  fencingToken: number;
  expiresInMs: number | null;
  heldForMs: number;
  waiters: boolean;
}

describe.each([
  ["Redis", ioredisContext],
  ["Redis Cluster", () => clusterContext()],
  ["Upstash", upstashContext],
])("pulselock inspect and release against %s", (_name, makeContext) => {
  const h = useHarness(makeContext);

  /** Locks held by a live Locker, and locks left by a dead one (terminated: its liveness record is deleted). */
  async function someLocks(label: string) {
    const live = h.locker();
    const dying = h.locker();
    const names = { alive: uniqueKey(`${label}-alive`), dead: uniqueKey(`${label}-dead`), other: uniqueKey(`${label}-other`) };
    const alive = await live.acquire(names.alive, "cron 2am");
    const dead = await dying.acquire(names.dead);
    expect(alive.status).toBe(LockStatus.SUCCESS);
    expect(dead.status).toBe(LockStatus.SUCCESS);
    await dying.terminate();
    return { names, alive: alive.lockData, dead: dead.lockData };
  }

  const fullKey = (name: string) => `${h.ctx.prefix}pl:{${name}}`;

  it("inspect --json lists each lock with its owner, whether that owner is alive, its fencing token and its expiry", async () => {
    const { names, alive, dead } = await someLocks("json");
    const r = await runCli(["inspect", `${names.alive.split(":")[0]}*`, ...connectArgs(h.ctx), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { locks: JsonRow[] }).locks;
    const row = rows.find((x) => x.key === names.alive)!;
    expect(row).toMatchObject({ alive: true, fencingToken: alive.fencingToken, owner: { processHash: alive.processHash, trace: "cron 2am" } });
    expect(row.owner.process).toMatch(/:\d+$/); // host:pid from the owner's liveness record
    expect(row.expiresInMs).toBeGreaterThan(0);
    expect(row.expiresInMs).toBeLessThanOrEqual(300_000);
    expect(row.waiters).toBe(false);
    // The glob matched only the "json-alive" lock; the dead one is found by its own name.
    expect(rows.map((x) => x.key)).toEqual([names.alive]);
    const deadRun = await runCli(["inspect", names.dead, ...connectArgs(h.ctx), "--json"]);
    const [deadRow] = (JSON.parse(deadRun.stdout) as { locks: JsonRow[] }).locks;
    expect(deadRow).toMatchObject({ key: names.dead, alive: false, fencingToken: dead.fencingToken, owner: { processHash: dead.processHash } });
    expect(deadRow!.owner.process).toBeUndefined();
  });

  it("inspect lists each held semaphore permit as a row of its own, with its owner, token and expiry, and the summary counts them", async () => {
    const live = h.locker();
    const dying = h.locker();
    const name = uniqueKey("permits");
    const [a, b] = [await live.semaphore(name, { limit: 3 }).acquire("export a"), await dying.semaphore(name, { limit: 3 }).acquire()];
    if (a.status !== LockStatus.SUCCESS || b.status !== LockStatus.SUCCESS) throw new Error("permits not acquired");
    await dying.terminate(); // its permit stays in the hash while its liveness record is gone
    const r = await runCli(["inspect", name, ...connectArgs(h.ctx), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { locks: (JsonRow & { kind: string })[] }).locks;
    expect(rows).toHaveLength(2);
    const mine = rows.find((x) => x.owner.processHash === a.lockData.processHash)!;
    expect(mine).toMatchObject({ kind: "permit", key: name, alive: true, fencingToken: a.lockData.fencingToken, owner: { trace: "export a" } });
    expect(mine.expiresInMs).toBeGreaterThan(0);
    expect(mine.expiresInMs).toBeLessThanOrEqual(300_000);
    const theirs = rows.find((x) => x.owner.processHash === b.lockData.processHash)!;
    expect(theirs).toMatchObject({ kind: "permit", alive: false, fencingToken: b.lockData.fencingToken });
    const table = await runCli(["inspect", name, ...connectArgs(h.ctx)]);
    expect(table.stdout).toContain(`${name} (permit)`);
    expect(table.stdout).toMatch(/0 locks and 2 semaphore permits held \(1 by dead owners\)/);
    // A released permit is no longer listed.
    await live.semaphore(name, { limit: 3 }).release(a.lockData);
    const after = (JSON.parse((await runCli(["inspect", name, ...connectArgs(h.ctx), "--json"])).stdout) as { locks: JsonRow[] }).locks;
    expect(after.map((x) => x.owner.processHash)).toEqual([b.lockData.processHash]);
  });

  it("inspect prints a table; --dead keeps the locks of dead owners only", async () => {
    const { names } = await someLocks("table");
    const r = await runCli(["inspect", "table-*", ...connectArgs(h.ctx)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KEY\s+OWNER\s+TRACE\s+ALIVE\s+HELD FOR\s+LAST EXTENDED\s+EXPIRES IN\s+FENCING TOKEN\s+WAITERS/);
    expect(r.stdout).toContain(names.alive);
    expect(r.stdout).toMatch(new RegExp(`${names.dead}\\s+process [0-9a-f]{12}\\s+-\\s+NO \\(dead\\)`));
    const dead = await runCli(["inspect", "table-*", "--dead", ...connectArgs(h.ctx)]);
    expect(dead.stdout).toContain(names.dead);
    expect(dead.stdout).not.toContain(names.alive);
  });

  it("inspect calls an owner whose liveness key holds another type unknown, not dead, and --dead leaves its lock out", async () => {
    // Found in review: MGET answers nil for a hash, so the owner showed as "NO (dead)", which invites a release.
    const { names, dead } = await someLocks("wrongtype");
    await h.ctx.admin("HSET", `${h.ctx.prefix}pl:proc:${dead.processHash}`, "not", "pulselock");
    const rows = (JSON.parse((await runCli(["inspect", names.dead, ...connectArgs(h.ctx), "--json"])).stdout) as { locks: JsonRow[] }).locks;
    expect(rows).toMatchObject([{ key: names.dead, alive: null }]);
    const table = await runCli(["inspect", names.dead, ...connectArgs(h.ctx)]);
    expect(table.stdout).toContain("unknown (liveness key of another type)");
    expect(table.stdout).toMatch(/1 lock held \(0 by dead owners\)/);
    expect((await runCli(["inspect", names.dead, "--dead", ...connectArgs(h.ctx)])).stdout).not.toContain(names.dead);
  });

  it("release frees a dead owner's lock, so the next acquire takes it at once", async () => {
    const { names, dead } = await someLocks("release");
    const r = await runCli(["release", names.dead, ...connectArgs(h.ctx)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`released ${JSON.stringify(names.dead)}`);
    expect(r.stdout).toContain(`fencing token ${dead.fencingToken}`);
    expect(await h.ctx.admin("EXISTS", fullKey(names.dead))).toBe(0);
    const again = await runCli(["release", names.dead, ...connectArgs(h.ctx)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("does not exist");
  });

  it("release refuses a live owner's lock; --force frees it and says what that risks", async () => {
    const { names, alive } = await someLocks("force");
    const refused = await runCli(["release", names.alive, ...connectArgs(h.ctx)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: .* is alive/);
    expect(refused.stderr).toContain("--force");
    expect(await h.ctx.admin("EXISTS", fullKey(names.alive))).toBe(1);
    const forced = await runCli(["release", names.alive, "--force", ...connectArgs(h.ctx)]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain("two runs at once");
    expect(forced.stdout).toContain(`fencing token ${alive.fencingToken}`);
    expect(await h.ctx.admin("EXISTS", fullKey(names.alive))).toBe(0);
  });

  it("release never touches a value that is not a lock: a foreign string, a tombstone, another type", async () => {
    const name = uniqueKey("foreign");
    const cases: [string, string[], RegExp][] = [
      ["foreign", ["SET", fullKey(name), "someone else's value"], /is not a pulselock lock/],
      ["tombstone", ["SET", fullKey(`${name}-t`), "pl1t|1700000000000000", "PX", "60000"], /released a moment ago/],
      ["hash", ["HSET", fullKey(`${name}-h`), "f", "v"], /is not a pulselock lock/],
    ];
    for (const [label, command, message] of cases) {
      await h.ctx.admin(...command);
      const key = command[1]!;
      const lockName = key.slice(`${h.ctx.prefix}pl:{`.length, -1);
      const r = await runCli(["release", lockName, "--force", ...connectArgs(h.ctx)]);
      expect(r.code, label).toBe(1);
      expect(r.stderr, label).toMatch(message);
      expect(r.stderr, label).not.toMatch(/\n\s+at /); // no stack trace
      expect(await h.ctx.admin("EXISTS", key), label).toBe(1);
    }
    // inspect skips them (and says so) instead of failing.
    const r = await runCli(["inspect", `${name}*`, ...connectArgs(h.ctx), "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ locks: [], skipped: 3 });
  });

  it("inspect --watch refreshes until Ctrl-C (SIGINT) and then exits 0", async () => {
    const { names } = await someLocks("watch");
    const proc = spawn(process.execPath, [CLI, "inspect", names.alive, "--watch", "--interval", "0.2", "--json", ...connectArgs(h.ctx)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.on("close", resolve));
    await waitFor("two refreshes", () => out.split("\n").filter((l) => l.includes(names.alive)).length >= 2);
    proc.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});

describe("pulselock release: a lock that a new owner took meanwhile is never freed", () => {
  const h = useHarness(ioredisContext);

  it("the compare-and-delete is on the owner that was read: a takeover between the read and the release wins", async () => {
    const { connect } = await import("../../cli/ops/connect");
    const { release } = await import("../../cli/release");
    const dying = h.locker();
    const taker = h.locker();
    const name = uniqueKey("race");
    const first = await dying.acquire(name);
    expect(first.status).toBe(LockStatus.SUCCESS);
    await dying.terminate();
    const store = await connect({ redis: h.ctx.url, cluster: false, prefix: h.ctx.prefix });
    let taken: LockData | undefined;
    // Right after release() has read the dead owner's liveness record, a live process takes the lock over.
    const racing = {
      ...store,
      run: async (commands: string[][]) => {
        const replies = await store.run(commands);
        if (commands[0]?.[1]?.includes(":proc:") && !taken) {
          const res = await taker.acquire(name);
          expect(res.status).toBe(LockStatus.SUCCESS);
          taken = res.lockData;
        }
        return replies;
      },
    };
    try {
      await expect(release(racing, h.ctx.prefix, name, false)).rejects.toThrow(/another owner took/);
    } finally {
      await store.close();
    }
    expect(taken).toBeDefined();
    const holder = await taker.readLockData(name);
    expect(holder).toMatchObject({ ownerHash: taken!.ownerHash });
  });
});
