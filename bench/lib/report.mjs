// Turns the measurements into rows (what, figure, target, ratio, verdict),
// prints them as a table and writes bench/RESULTS.md.
import { writeFileSync } from "node:fs";
import { CLIENT_SETTINGS } from "./clients.mjs";
import { bestSetting, comparisons, TARGETS } from "./summary.mjs";
import { semaphoreRows } from "../semaphore.mjs";

const int = (n) => Math.round(n).toLocaleString("en-US");
const ms = (n) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

/** A target row: `ok` decides PASS/MISS; rows without a target are informational. */
function row(what, figure, target, ratio, ok) {
  return { what, figure, target: target ?? "", ratio: ratio ?? "", verdict: ok === undefined ? "" : ok ? "PASS" : "MISS" };
}

const settingLabel = (setting) => CLIENT_SETTINGS[setting]?.label ?? setting;

const COMPARED = {
  pairs: { title: "pairs/s", unit: (m) => int(m.pairsPerSec), target: (t) => `≥ ${t}×` },
  upstashPairs: { title: "pairs/s over Upstash REST", unit: (m) => int(m.pairsPerSec), target: (t) => `≥ ${t}×` },
  redisCpu: { title: "Redis CPU µs/pair", unit: (m) => m.serverUsPerPair.toFixed(1), target: (t) => `≤ ${t}×` },
  clientCpu: { title: "client CPU µs/pair", unit: (m) => m.cpuUsPerPair.toFixed(1), target: (t) => `≤ ${t}×` },
};

/** "pulselock (…, setting) vs the best peer (…, setting)": one row per comparison from lib/summary.mjs. */
function comparisonRow(k) {
  const how = COMPARED[k.what];
  const side = (x) => `${x.label}, ${settingLabel(x.setting)}`;
  const whom = k.what === "redisCpu" || k.what === "clientCpu" ? "lowest peer" : "best peer";
  return row(
    `c=${k.c} ${how.title}: ${side(k.ours)} vs ${whom}: ${side(k.peer)}`,
    `${how.unit(k.ours.m)} / ${how.unit(k.peer.m)}`,
    k.target === undefined ? undefined : how.target(k.target),
    `${k.ratio.toFixed(2)}×${k.ratioAtBetter ? ` (pulselock ${settingLabel(k.ratioAtBetter.setting)}: ${k.ratioAtBetter.ratio.toFixed(2)}×)` : ""}`,
    k.ok,
  );
}

export function buildRows(r) {
  const rows = [];
  const ceilingPairs = r.ceiling ? r.ceiling.opsPerSec / 2 : undefined;
  if (r.ceiling) {
    const runs = r.ceiling.runs ? ` (higher of ${r.ceiling.runs.map(int).join(" and ")})` : "";
    rows.push(
      row("Ceiling: EVALSHA `return 1`, ioredis auto-pipelining, 256 in flight", `${int(r.ceiling.opsPerSec)} ops/s = ${int(ceilingPairs)} pairs/s${runs}`),
    );
  }
  if (r.uncontended) {
    for (const e of Object.values(r.uncontended)) {
      for (const c of [1, 64]) {
        const best = bestSetting(e, c)?.setting;
        for (const [setting, byC] of Object.entries(e.settings)) {
          const m = byC[c];
          if (!m) continue;
          const tags = [setting === e.defaultSetting ? "client default" : "", setting === best ? "better" : ""].filter(Boolean).join(", ");
          rows.push(
            row(
              `Uncontended, c=${c}, ${e.label}, ${settingLabel(setting)}${tags ? ` (${tags})` : ""}`,
              `${int(m.pairsPerSec)} pairs/s${m.rounds.length > 1 ? ` (median of ${m.rounds.map(int).join(", ")})` : ""}, ${m.commandsPerPair.toFixed(2)} cmds/pair, CPU/pair ${m.cpuUsPerPair.toFixed(1)} µs client, ${m.serverUsPerPair.toFixed(1)} µs Redis`,
            ),
          );
        }
      }
    }
    const pl = r.uncontended.pulselock;
    const plBest = pl && bestSetting(pl, 64);
    if (plBest && ceilingPairs) {
      const ratio = plBest.m.pairsPerSec / ceilingPairs;
      rows.push(
        row(
          "pulselock c=64 (better setting) vs ceiling pairs/s",
          `${int(plBest.m.pairsPerSec)} / ${int(ceilingPairs)}`,
          "≥ 0.75×",
          `${ratio.toFixed(2)}×`,
          ratio >= 0.75,
        ),
      );
    }
    for (const k of comparisons(r.uncontended)) rows.push(comparisonRow(k));
  }
  if (r.semaphore) rows.push(...semaphoreRows(r.semaphore));
  if (r.requests) {
    const { pulselock: p, upstashLock: u } = r.requests;
    const worst = (list) => list.reduce((a, b) => (b.total > a.total ? b : a));
    const describe = (t) => `${t.total} (${t.startedBeforeJob} before the job starts: ${t.sequence})`;
    const again = worst(p.again);
    rows.push(
      row(
        "HTTP requests per acquireAndRun, pulselock/core over @upstash/redis, new isolate",
        describe(p.first),
        `≤ ${TARGETS.requestsPerJob}, job after the 1st`,
        "",
        p.first.total <= TARGETS.requestsPerJob && p.first.startedBeforeJob <= 1,
      ),
    );
    rows.push(
      row(
        `HTTP requests per acquireAndRun, same Locker idle again (most of ${p.again.length})`,
        describe(again),
        `≤ ${TARGETS.requestsPerJob}, job after the 1st`,
        "",
        again.total <= TARGETS.requestsPerJob && again.startedBeforeJob <= 1,
      ),
    );
    rows.push(row(`HTTP requests per job, @upstash/lock acquire + release (most of ${u.length})`, describe(worst(u))));
  }
  if (r.overhead) {
    rows.push(
      row(
        "Client CPU of pulselock itself (no client library, no network): acquire+release / acquireAndRun",
        `${r.overhead.pulselockUsPerPair.toFixed(1)} µs / ${r.overhead.pulselockUsPerRun.toFixed(1)} µs`,
      ),
    );
    rows.push(row("Client CPU of one ioredis EVALSHA (auto-pipelined, 64 in flight)", `${r.overhead.ioredisUsPerEvalsha.toFixed(1)} µs`));
  }
  if (r.singleton) {
    const { pulselock: p, bullmq: b, jobs, workers, concurrency } = r.singleton;
    const what = `${int(jobs)} singleton jobs, ${workers} processes × ${concurrency}`;
    const fig = (x) =>
      `${int(x.jobsPerSec)} jobs/s, ${x.commandsPerJob.toFixed(2)} cmds/job, CPU/job ${x.clientCpuUsPerJob.toFixed(0)} µs clients, ${x.redisCpuUsPerJob.toFixed(0)} µs Redis`;
    rows.push(row(`${what}: pulselock acquireAndRun`, fig(p)));
    rows.push(row(`${what}: BullMQ (add included)`, fig(b)));
    const ratio = p.jobsPerSec / b.jobsPerSec;
    const cpu = (b.clientCpuUsPerJob + b.redisCpuUsPerJob) / (p.clientCpuUsPerJob + p.redisCpuUsPerJob);
    rows.push(
      row(
        "Singleton jobs/s, pulselock vs BullMQ",
        `${int(p.jobsPerSec)} / ${int(b.jobsPerSec)}`,
        "≥ 2×",
        `${ratio.toFixed(2)}× (CPU ${cpu.toFixed(2)}×)`,
        ratio >= 2,
      ),
    );
    rows.push(
      row(
        "Redis commands per singleton job (pulselock)",
        `${p.commandsPerJob.toFixed(2)} (${p.sentPerJob.toFixed(2)} sent by the client, the rest inside Lua)`,
        "≤ 4",
        "",
        p.commandsPerJob <= 4,
      ),
    );
  }
  if (r.takeover) {
    for (const [name, s] of Object.entries(r.takeover.scenarios)) {
      const limit = s.reportTtlMs + 150;
      rows.push(
        row(
          `Takeover after SIGKILL, ${name} (${s.repeats}×), p50 / p95`,
          `${ms(s.p50)} / ${ms(s.p95)}`,
          `p95 ≤ ${int(limit)} ms`,
          `p95 − TTL ${(s.p95 - s.reportTtlMs).toFixed(0)} ms`,
          s.p95 <= limit,
        ),
      );
    }
  }
  if (r.handoff) {
    for (const [mode, m] of Object.entries(r.handoff.modes)) {
      const target = mode === "pub/sub";
      rows.push(
        row(
          `Hand-off to a waiting mutex(), ${mode} (${m.repeats}×), p50 / p95`,
          `${ms(m.p50)} / ${ms(m.p95)}`,
          target ? "p50 ≤ 5 ms" : undefined,
          undefined,
          target ? m.p50 <= 5 : undefined,
        ),
      );
    }
  }
  if (r.memory) {
    const m = r.memory;
    rows.push(
      row(
        "Redis bytes per held lock (MEMORY USAGE)",
        `${m.bytesPerLock.toFixed(0)} B (used_memory +${m.usedMemoryPerLock.toFixed(0)} B)`,
        "≤ 200 B",
        "",
        m.bytesPerLock <= 200,
      ),
    );
    rows.push(row("Redis bytes per process record (MEMORY USAGE)", `${m.bytesPerProcessRecord} B`));
    rows.push(row("Settled RSS added by the liveness thread", `${m.rss.addedMb.toFixed(1)} MB`, "≤ 12 MB", "", m.rss.addedMb <= 12));
  }
  if (r.otel) {
    for (const [key, label] of [
      ["redis-pairs", "acquire+release pairs/s, redis-server"],
      ["redis-runs", "acquireAndRun()s/s, redis-server"],
      ["instant-pairs", "acquire+release pairs/s, in-process transport"],
      ["instant-runs", "acquireAndRun()s/s, in-process transport"],
    ]) {
      const m = r.otel[key];
      for (const variant of ["no-op", "SDK sampled out", "SDK recording"]) {
        const target = variant === "no-op";
        rows.push(
          row(
            `OpenTelemetry cost, ${variant === "no-op" ? "no-op providers (no SDK)" : variant}, c=64 ${label} (median of ${m.off.rounds.length} interleaved rounds)`,
            `${int(m[variant].median)} vs ${int(m.off.median)} off: ${m[variant].costPct.toFixed(1)} %; client CPU ${m[variant].cpuUsPerOp.toFixed(2)} vs ${m.off.cpuUsPerOp.toFixed(2)} µs/op: ${m[variant].cpuCostPct.toFixed(1)} %`,
            target ? "< 3 %" : undefined,
            undefined,
            target ? m[variant].costPct < 3 : undefined,
          ),
        );
      }
    }
  }
  if (r.inspect) {
    const best = Math.min(...r.inspect.runs.map((x) => x.wallMs));
    rows.push(
      row(
        `\`pulselock inspect --json\` with ${int(r.inspect.locks)} locks held (whole command, best of ${r.inspect.runs.length})`,
        `${int(best)} ms (seeded in ${int(r.inspect.seedMs)} ms)`,
      ),
    );
  }
  return rows;
}

const COLUMNS = [
  ["what", "what"],
  ["figure", "figure"],
  ["target", "target"],
  ["ratio", "ratio"],
  ["verdict", ""],
];

export function printTable(rows, out = console.log) {
  const widths = COLUMNS.map(([k, title]) => Math.max(title.length, ...rows.map((r) => r[k].length)));
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  out(line(COLUMNS.map(([, t]) => t)));
  out(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) out(line(COLUMNS.map(([k]) => r[k])));
}

export function markdownTable(rows) {
  const esc = (s) => s.replaceAll("|", "\\|");
  return ["| what | figure | target | ratio | |", "|---|---|---|---|---|", ...rows.map((r) => `| ${COLUMNS.map(([k]) => esc(r[k])).join(" | ")} |`)].join("\n");
}

export function writeResults(path, { env, settings, rows, results, notes }) {
  const pk = Object.entries(env.packages)
    .map(([p, v]) => `${p} ${v}`)
    .join(", ");
  const details = [];
  if (results.uncontended) {
    details.push("### Commands per pair, by command (server side: client commands + commands inside Lua)\n");
    for (const e of Object.values(results.uncontended)) {
      for (const [setting, byC] of Object.entries(e.settings))
        for (const [c, m] of Object.entries(byC))
          details.push(`- ${e.label}, ${settingLabel(setting)}, c=${c}: ${m.breakdown}${m.errors ? ` (${m.errors} failed pairs)` : ""}`);
    }
  }
  if (results.requests) {
    const { pulselock: p, upstashLock: u, counting } = results.requests;
    details.push(`\n### HTTP requests per job over Upstash REST (counted by ${counting})\n`);
    details.push(`- pulselock/core, new isolate: ${p.first.sequence}`);
    p.again.forEach((t, i) => details.push(`- pulselock/core, idle again (${i + 1}): ${t.sequence}`));
    u.forEach((t, i) => details.push(`- @upstash/lock (${i + 1}): ${t.sequence}`));
  }
  if (results.singleton) {
    details.push("\n### Commands per singleton job, by command\n");
    details.push(`- pulselock: ${results.singleton.pulselock.breakdown}`);
    details.push(`- BullMQ: ${results.singleton.bullmq.breakdown}`);
  }
  if (results.memory) {
    details.push("\n### Records\n");
    details.push(`- lock: \`${results.memory.sampleLock.key}\` = \`${results.memory.sampleLock.value}\``);
    details.push(`- process: \`${results.memory.sampleProcess.key}\` = \`${results.memory.sampleProcess.value}\``);
  }
  const text = `# Benchmark results

Produced by \`${env.command}\` on ${env.date} (${settings.mode} run).

- Machine: ${env.cpu}, ${env.memoryGb} GB RAM, load average at the start ${env.loadavg}${env.loadavgEnd ? `, at the end ${env.loadavgEnd}` : ""}
- Node ${env.node}; ${env.redis}
- Packages: ${pk}
- pulselock commit ${env.commit}
- Settings: ${Object.entries(settings)
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(", ")}

Uncontended rows: every library runs with its client's auto-pipelining off and on (ioredis defaults to
off, @upstash/redis 1.39 to on); each peer counts at its better setting (more pairs/s at that
concurrency), pulselock at its client's default; each figure is the median of the rounds, taken in
turns. The Upstash rows go through \`pulselock upstash-dev\` (a separate process) in front of the same
redis-server. The other phases give every ioredis client \`enableAutoPipelining: true\`. Method: [docs/benchmarks.md](../docs/benchmarks.md).

${markdownTable(rows)}

${details.join("\n")}
${notes.length ? `\n### Notes\n\n${notes.map((n) => `- ${n}`).join("\n")}\n` : ""}`;
  writeFileSync(path, text);
}
