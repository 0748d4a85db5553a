/**
 * `pulselock inspect [NAME-OR-GLOB] --redis URL | --upstash-url URL --upstash-token T [--prefix P] [--json] [--watch]`
 *
 * Lists held locks and semaphore permits: who holds each (process, trace), whether that process is
 * alive (its liveness record exists), since when, when it was last extended,
 * when Redis would drop it, its fencing token, and whether a waiter flagged it.
 * Reads with SCAN on every master and pipelined reads, never KEYS.
 */
import { CONNECT_HELP, UsageError, parseArgs } from "./ops/args";
import { table } from "./ops/format";
import { UNKNOWN, readLiveness, redisNowMs } from "./ops/liveness";
import { lockKind, type RecordKind, type Row } from "./ops/lock-kind";
import { semaphoreKind } from "./ops/semaphore-kind";
import { connect } from "./ops/connect";
import type { Store } from "./ops/store";
import { runCommand } from "./ops/run-command";

const USAGE = `usage: pulselock inspect [NAME-OR-GLOB] (--redis <url> | --upstash-url <url> --upstash-token <t>) [options]

Lists held locks and semaphore permits (a row per permit, its key marked "(permit)"): key, owner
(host:pid while alive, else its process hash), trace, whether the owner
is alive (its liveness record exists; "unknown" when its key holds another type), held for, last
extended, expires in (the record's PTTL),
fencing token, and waiters ("yes": a mutex() waiter asked to be woken by the release; polling
waiters on HTTP and edge runtimes leave no trace, and the number of waiters is not recorded).

  NAME-OR-GLOB            a lock or semaphore name, or a Redis glob over names ("report-*"); default: all
${CONNECT_HELP}
  --json                  one JSON document (with --watch: one per line, per refresh)
  --dead                  only locks whose owner is dead (what \`pulselock release\` can free)
  --watch                 refresh in place until Ctrl-C
  --interval <seconds>    how often --watch refreshes (default 2)`;

/** Every kind of record inspect lists (see ./ops/lock-kind.ts). */
const RECORD_KINDS: RecordKind[] = [lockKind, semaphoreKind];

export interface Inspection {
  /** Redis TIME when the inspection began. */
  at: string;
  locks: Row[];
  /** Keys under a lock's name that hold no lock: a tombstone of a release this very millisecond, or a foreign value. */
  skipped: number;
  /** How long the inspection took, SCAN and reads. */
  tookMs: number;
}

export async function inspect(store: Store, prefix: string, names: string, deadOnly: boolean): Promise<Inspection> {
  const started = performance.now();
  const nowMs = await redisNowMs(store);
  const rows: Row[] = [];
  let skipped = 0;
  const processHashes = new Set<string>();
  for (const kind of RECORD_KINDS) {
    for await (const keys of store.scan(kind.pattern(prefix, names))) {
      const read = await kind.read(store, prefix, keys, nowMs);
      rows.push(...read.rows);
      skipped += read.skipped;
      for (const hash of read.processHashes) processHashes.add(hash);
    }
  }
  const liveness = await readLiveness(store, prefix, [...processHashes]);
  for (const row of rows) {
    const record = liveness.get(row.owner.processHash);
    row.alive = record === UNKNOWN ? null : record != null;
    if (typeof record === "string") row.owner.process = record;
  }
  const locks = (deadOnly ? rows.filter((r) => r.alive === false) : rows).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { at: new Date(nowMs).toISOString(), locks, skipped, tookMs: Math.round(performance.now() - started) };
}

function render(result: Inspection, where: string): string {
  const dead = result.locks.filter((r) => r.alive === false).length;
  const permits = result.locks.filter((r) => r.kind === "permit").length;
  const locks = result.locks.length - permits;
  const held = `${locks} lock${locks === 1 ? "" : "s"}${permits ? ` and ${permits} semaphore permit${permits === 1 ? "" : "s"}` : ""}`;
  const summary =
    `${held} held (${dead} by dead owners) at ${where}, ${result.at}, read in ${result.tookMs} ms` +
    (result.skipped ? `; ${result.skipped} key${result.skipped === 1 ? "" : "s"} under lock names held no lock record (skipped)` : "");
  return result.locks.length ? `${table(result.locks)}\n\n${summary}` : summary;
}

export function main(argv: readonly string[]): Promise<number> {
  return runCommand("inspect", USAGE, async () => {
    const parsed = parseArgs(argv, ["interval"], ["json", "watch", "dead"]);
    if (parsed === "help") return "help";
    if (parsed.positionals.length > 1) throw new UsageError(`give one name or glob, got ${parsed.positionals.length}`);
    const names = parsed.positionals[0] ?? "*";
    if (names === "") throw new UsageError("the name or glob must not be empty");
    const intervalText = parsed.values.get("interval") ?? "2";
    const intervalS = Number(intervalText);
    if (!(intervalS >= 0.1 && intervalS <= 3600)) throw new UsageError(`--interval must be a number of seconds from 0.1 to 3600, got "${intervalText}"`);
    if (parsed.values.has("interval") && !parsed.flags.has("watch")) throw new UsageError("--interval goes with --watch");
    const json = parsed.flags.has("json");
    const store = await connect(parsed.connect);
    const once = async () => {
      const result = await inspect(store, parsed.connect.prefix, names, parsed.flags.has("dead"));
      return json ? JSON.stringify(result) : render(result, store.where);
    };
    try {
      if (!parsed.flags.has("watch")) {
        process.stdout.write(`${await once()}\n`);
        return 0;
      }
      await watch(once, intervalS * 1000, json);
      return 0;
    } finally {
      await store.close();
    }
  });
}

/** Refreshes until SIGINT or SIGTERM; on a terminal, in place (cursor home, screen cleared). */
async function watch(once: () => Promise<string>, intervalMs: number, json: boolean): Promise<void> {
  const inPlace = process.stdout.isTTY && !json;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    for (;;) {
      const text = await Promise.race([once(), stopped]);
      if (text === undefined) return;
      process.stdout.write(inPlace ? `\x1b[H\x1b[2J${text}\n\n(every ${intervalMs / 1000}s; Ctrl-C to stop)\n` : `${text}\n`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ended = await Promise.race([stopped.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), intervalMs)))]);
      clearTimeout(timer);
      if (ended) return;
    }
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}
