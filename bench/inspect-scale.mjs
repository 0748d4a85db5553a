// `pulselock inspect` with 100,000 locks held (the issue's figure): seeds the
// lock records straight into the bench's redis-server, pipelined (1,000
// owners, half of them alive), then times the command as a user runs it
// (`node dist/cli.js inspect --redis … --prefix … --json`), SCAN and reads
// included. The seeded keys are deleted afterwards.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const PREFIX = "inspect-bench:";
const OWNERS = 1000;

async function seed(admin, locks) {
  const started = performance.now();
  const nowMs = Date.now();
  const hashes = Array.from({ length: OWNERS }, (_, i) => i.toString(16).padStart(32, "0"));
  for (let i = 0; i < locks; i += 10_000) {
    const pipeline = admin.pipeline();
    for (let j = i; j < Math.min(locks, i + 10_000); j++) {
      const token = nowMs * 1000 + j;
      pipeline.set(`${PREFIX}pl:{job-${j}}`, `pl1|${token}|${nowMs}|${nowMs}|${hashes[j % OWNERS]}|${j}|#bench`, "PX", 600_000);
    }
    await pipeline.exec();
  }
  const alive = admin.pipeline();
  for (let i = 0; i < OWNERS; i += 2) alive.set(`${PREFIX}pl:proc:${hashes[i]}`, `bench-host:${i}`, "PX", 600_000);
  await alive.exec();
  return performance.now() - started;
}

async function unseed(admin) {
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 10_000);
    cursor = next;
    if (keys.length) await admin.unlink(...keys);
  } while (cursor !== "0");
}

function inspectOnce(redisUrl) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn(process.execPath, [CLI, "inspect", "--redis", redisUrl, "--prefix", PREFIX, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    let err = "";
    proc.stdout.on("data", (d) => out.push(d));
    proc.stderr.on("data", (d) => (err += d));
    proc.on("exit", (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`inspect exited with ${code}: ${err}`));
      const result = JSON.parse(Buffer.concat(out).toString("utf8"));
      resolve({ wallMs, tookMs: result.tookMs, locks: result.locks.length, dead: result.locks.filter((l) => !l.alive).length });
    });
  });
}

export async function measureInspect({ redis, admin, locks = 100_000, log }) {
  const seedMs = await seed(admin, locks);
  log?.(`  seeded ${locks.toLocaleString("en-US")} locks in ${Math.round(seedMs)} ms (pipelined SET PX)`);
  try {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await inspectOnce(redis.url));
    const best = runs.reduce((a, b) => (a.wallMs <= b.wallMs ? a : b));
    if (best.locks !== locks) throw new Error(`inspect listed ${best.locks} locks, ${locks} were seeded`);
    log?.(`  inspect: ${runs.map((r) => `${Math.round(r.wallMs)} ms (reads ${r.tookMs} ms)`).join(", ")}; ${best.dead} with dead owners`);
    return { locks, seedMs, runs };
  } finally {
    await unseed(admin);
  }
}
