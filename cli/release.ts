/**
 * `pulselock release NAME --redis URL | --upstash-url URL --upstash-token T [--prefix P] [--force]`
 *
 * Frees a lock whose owner is dead (its liveness record is gone), at once
 * rather than when the fleet's next acquire takes it over or its TTL ends. It
 * runs pulselock's own RELEASE script with the owner it read: a
 * compare-and-delete, so a lock that a new owner took meanwhile is never freed,
 * and a foreign value or a tombstone is never touched. A live owner's lock is
 * refused unless --force, which says what that risks.
 */
import { processKey, lockKey } from "../src/keys";
import { TOMBSTONE, decodeLockRecord, ownerOf } from "../src/lock-record";
import { runScript } from "../src/run-script";
import { RELEASE, decodeReleaseReply, releaseCall } from "../src/scripts/release";
import { CONNECT_HELP, CliError, UsageError, parseArgs } from "./ops/args";
import { duration } from "./ops/format";
import { redisNowMs } from "./ops/liveness";
import { runCommand } from "./ops/run-command";
import { connect } from "./ops/connect";
import type { Store } from "./ops/store";

const USAGE = `usage: pulselock release NAME (--redis <url> | --upstash-url <url> --upstash-token <t>) [options]

Frees the lock NAME when its owner's process is dead (its liveness record is gone). Refuses while
the owner is alive: that owner is still running its job.

  NAME                    the lock name, as the application passes it to acquireAndRun()
${CONNECT_HELP}
  --force                 free it even though its owner is alive. The owner's job goes on until its
                          next recheck notices (lockRecheckMs, 5 s by default, if it heartbeats), and
                          meanwhile another process may take the lock and run the same job: two runs
                          of the job at once. Use it only for an owner you know is stuck.`;

export function main(argv: readonly string[]): Promise<number> {
  return runCommand("release", USAGE, async () => {
    const parsed = parseArgs(argv, [], ["force"]);
    if (parsed === "help") return "help";
    if (parsed.positionals.length !== 1) throw new UsageError(parsed.positionals.length ? "give one lock name" : "which lock? give its name");
    const name = parsed.positionals[0]!;
    if (name === "") throw new UsageError("the lock name must not be empty");
    const store = await connect(parsed.connect);
    try {
      process.stdout.write(`${await release(store, parsed.connect.prefix, name, parsed.flags.has("force"))}\n`);
      return 0;
    } finally {
      await store.close();
    }
  });
}

/** Frees lock `name` if its owner is dead (or `force`); returns what to tell the user, or throws a CliError saying why not. */
export async function release(store: Store, prefix: string, name: string, force: boolean): Promise<string> {
  const redisKey = lockKey(prefix, name);
  const shown = JSON.stringify(name);
  // Quoted like the name: a key may hold newlines or control characters, which must not break the one-line message.
  const shownKey = JSON.stringify(redisKey);
  const [raw] = await store.run([["GET", redisKey]]);
  if (raw instanceof Error)
    throw new CliError(`${shown} is not a pulselock lock: ${shownKey} holds a value Redis cannot read as a string (${raw.message.split(" ")[0]})`);
  if (raw === null || raw === undefined)
    throw new CliError(`no lock ${shown} is held: ${shownKey} does not exist (released, expired, or a wrong name or --prefix)`);
  if (typeof raw === "string" && TOMBSTONE.test(raw)) throw new CliError(`no lock ${shown} is held: it was released a moment ago`);
  let lockData;
  try {
    lockData = decodeLockRecord(name, redisKey, raw);
  } catch {
    throw new CliError(`${shown} is not a pulselock lock: ${shownKey} holds a value that is not a lock record; left untouched`);
  }
  const owner = ownerOf(name, lockData.ownerHash)!;
  const livenessKey = processKey(prefix, owner.processHash);
  const [liveness] = await store.run([["GET", livenessKey]]);
  if (liveness instanceof Error && !force) {
    // Not a liveness record (another type): nobody can tell whether the owner lives, and the library refuses the lock too.
    throw new CliError(
      `refused: the liveness key of ${shown}'s owner, ${JSON.stringify(livenessKey)}, holds a value pulselock did not write (${liveness.message.split("\n")[0]}), ` +
        "so whether its process is alive is unknown; left untouched. Find the other writer; --force frees the lock anyway.",
    );
  }
  const alive = typeof liveness === "string";
  const who = `${alive ? liveness : "a dead process"} (process ${owner.processHash}${owner.trace === undefined ? "" : `, trace ${JSON.stringify(owner.trace)}`})`;
  const heldFor = duration(Math.max(0, (await redisNowMs(store)) - Date.parse(lockData.acquiredAt)));
  if (alive && !force) {
    throw new CliError(
      `refused: ${shown} is held by ${who}, which is alive (its liveness record exists), for ${heldFor}. ` +
        "Its job is still running. If you know it is stuck, --force frees the lock anyway, at the risk of two runs of the job at once.",
    );
  }
  if (alive) {
    process.stderr.write(
      `pulselock release: warning: freeing ${shown} although its owner ${who} is alive. Its job keeps running until it ` +
        "notices (at its next recheck, if it heartbeats), and meanwhile another process may take the lock and run the same job: two runs at once.\n",
    );
  }
  const { keys, args } = releaseCall([{ key: name, redisKey, owner }], store.isCluster ? "2" : "1");
  let reply: unknown;
  try {
    [reply] = decodeReleaseReply(await runScript(store.transport, RELEASE, keys, args), 1);
  } catch (error) {
    throw new CliError(`Redis refused the release of ${shown}: ${(error as Error).message}`);
  }
  if (reply === 1) return `released ${shown}: it was held by ${who} for ${heldFor}, fencing token ${lockData.fencingToken}`;
  if (reply === -1) throw new CliError(`nothing freed: ${shown} was released or expired just now`);
  if (reply instanceof Error) throw new CliError(`nothing freed: Redis refused to read ${shownKey}: ${reply.message}`);
  throw new CliError(`nothing freed: another owner took ${shown} just now (it is no longer the lock of process ${owner.processHash})`);
}
