import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ACQUIRE } from "../../src/scripts/acquire";
import { ACQUIRE_ALL } from "../../src/scripts/acquire-all";
import { EXTEND } from "../../src/scripts/extend";
import { INSPECT, decodeInspectReply, inspectKeys } from "../../src/scripts/inspect";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";
import { SEMAPHORE_ACQUIRE } from "../../src/scripts/semaphore-acquire";
import { SEMAPHORE_EXTEND } from "../../src/scripts/semaphore-extend";
import { SEMAPHORE_READ } from "../../src/scripts/semaphore-read";
import { SEMAPHORE_RELEASE } from "../../src/scripts/semaphore-release";
import { startRedis } from "../support/redis-server.mjs";

let server: Awaited<ReturnType<typeof startRedis>>;
let client: Redis;
beforeAll(async () => {
  server = await startRedis();
  client = new Redis(server.url);
});
afterAll(async () => {
  client.disconnect();
  await server.close();
});

it.each([ACQUIRE, ACQUIRE_ALL, EXTEND, RELEASE, READ, REPORT, REMOVE, INSPECT, SEMAPHORE_ACQUIRE, SEMAPHORE_EXTEND, SEMAPHORE_READ, SEMAPHORE_RELEASE])(
  "the precomputed SHA1 of $name matches SCRIPT LOAD",
  async (script) => {
    expect(await client.script("LOAD", script.source)).toBe(script.sha);
  },
);

it("INSPECT reads, per lock, its value, PTTL and wait flag; a missing key and a value of another type read as null", async () => {
  const p = `inspect-${Math.random().toString(36).slice(2)}:`;
  await client.set(`${p}a`, "pl1|1|2|2|x|1|", "PX", 60_000);
  await client.set(`${p}a:w`, "", "PX", 60_000);
  await client.set(`${p}b`, "forever");
  await client.hset(`${p}c`, "f", "v");
  const keys = [`${p}a`, `${p}b`, `${p}c`, `${p}missing`];
  const reply = await client
    .evalsha(INSPECT.sha, 2 * keys.length, ...inspectKeys(keys))
    .catch(() => client.eval(INSPECT.source, 2 * keys.length, ...inspectKeys(keys)));
  const [a, b, c, missing] = decodeInspectReply(reply, keys.length);
  expect(a).toMatchObject({ value: "pl1|1|2|2|x|1|", flagged: true });
  expect(a!.pttl).toBeGreaterThan(50_000);
  expect(b).toEqual({ value: "forever", pttl: -1, flagged: false });
  expect(c).toEqual({ value: null, pttl: -1, flagged: false });
  expect(missing).toEqual({ value: null, pttl: -2, flagged: false });
});

/**
 * ACQUIRE at script level, on the server's SET NX GET and on the GET-then-SET
 * path that a server without it (Redis < 7.0) takes: here forced by a variant
 * whose SET option is misspelt, which Redis answers with "ERR syntax error".
 */
const NX_GET = /'NX',\s*'GET'/;
const LEGACY = { ...ACQUIRE, source: ACQUIRE.source.replace(NX_GET, "'NX', 'GETX'") };
const PH = "a".repeat(32);
const DEAD = "b".repeat(32);

it.each([
  ["SET NX GET", ACQUIRE],
  ["GET then SET", LEGACY],
])("ACQUIRE (%s): free, held, taken over from the named victim only, tokens increase, a foreign type fails alone", async (_, script) => {
  if (script === LEGACY) expect(script.source).toContain("GETX");
  else expect(script.source).toMatch(NX_GET);
  const p = `s${Math.random().toString(36).slice(2, 8)}:`;
  await client.set(`${p}live`, "1");
  const run = async (locks: [string, string][]): Promise<unknown[]> => {
    // A short-form lock ("seq|traceField") names no flag key; our liveness key comes last.
    const keys = locks.flatMap(([k, a]) => (a.startsWith("!") ? [`${p}${k}`, `${p}${k}:w`] : [`${p}${k}`]));
    return (await client.eval(script.source, keys.length + 1, ...keys, `${p}live`, PH, "60000", "1", ...locks.map(([, a]) => a))) as unknown[];
  };
  await client.hset(`${p}hash`, "f", "v");
  await client.set(`${p}held`, `pl1|5|1|1|${DEAD}|7|`);
  // The short form "seq|traceField", the full form "!seq|victimSeq|waitFlagMs|victimProcessHash|traceField".
  const [u, free, held, wrong, short] = await run([
    ["free", "!1||||#t"],
    ["held", "!2||1000||"],
    ["hash", "!3||||"],
    ["short", "9|#s"],
  ]);
  expect(Number.isSafeInteger(u) && (u as number) > 1e15).toBe(true); // the batch's TIME in µs
  const ms = Math.floor((u as number) / 1000);
  expect(free).toBe(1); // taken, with the batch's time as its token: the caller knows the rest of the record
  expect(await client.get(`${p}free`)).toBe(`pl1|${u}|${ms}|${ms}|${PH}|1|#t`);
  expect(short).toBe(1);
  expect(await client.get(`${p}short`)).toBe(`pl1|${u}|${ms}|${ms}|${PH}|9|#s`);
  expect(held).toBe(`pl1|5|1|1|${DEAD}|7|`);
  expect(await client.pttl(`${p}held:w`)).toBeGreaterThan(0); // the waiter's flag
  expect((wrong as unknown[])[0]).toBe(-3);
  expect(String((wrong as unknown[])[1])).toMatch(/^WRONGTYPE/);
  // A takeover names the dead holder: a wrong seq is refused, the right one wins with a greater token.
  const [, refused] = await run([["held", `!4|8||${DEAD}|`]]);
  expect(refused).toBe(`pl1|5|1|1|${DEAD}|7|`);
  const [u2, taken] = await run([["held", `!4|7||${DEAD}|`]]);
  // 1: the batch's time is the token; a larger integer: the token itself (the old one + 1 was larger).
  expect(taken === 1 || (Number.isSafeInteger(taken) && (taken as number) > (u2 as number))).toBe(true);
  const token = taken === 1 ? (u2 as number) : (taken as number);
  expect(token).toBeGreaterThan(5);
  expect(await client.get(`${p}held`)).toMatch(new RegExp(`^pl1\\|${token}\\|\\d+\\|\\d+\\|${PH}\\|4\\|$`));
  // A token from the future (a clock that stepped back): the takeover's token is that token + 1, given as such.
  await client.set(`${p}ahead`, `pl1|9000000000000000|1|1|${DEAD}|3|`);
  const [, ahead] = await run([["ahead", `!8|3||${DEAD}|`]]);
  expect(ahead).toBe(9000000000000001);
  // Our own record is held, not retaken.
  const [, mine] = await run([["held", "5|"]]);
  expect(mine).toBe(await client.get(`${p}held`));
  // Without our liveness record the whole batch is refused.
  await client.del(`${p}live`);
  expect(await run([["other", "6|"]])).toEqual([-2]);
});

it("RELEASE: deletes only the caller's own record (compared as a whole owner, not as a pattern) and says what it found", async () => {
  const p = `s${Math.random().toString(36).slice(2, 8)}:`;
  await client.set(`${p}mine`, `pl1|5|1|1|${PH}|1|#x`);
  await client.set(`${p}theirs`, `pl1|5|1|1|${DEAD}|1|#${PH}|1|`); // our owner inside their trace
  await client.hset(`${p}hash`, "f", "v");
  const keys = ["mine", "theirs", "gone", "hash"].flatMap((k) => [`${p}${k}`, `${p}${k}:w`]);
  const reply = (await client.eval(RELEASE.source, keys.length, ...keys, "0", PH, "1", "1", "1", "1")) as unknown[];
  expect(reply.slice(0, 3)).toEqual([1, `pl1|5|1|1|${DEAD}|1|#${PH}|1|`, -1]);
  expect((reply[3] as unknown[])[0]).toBe(-3);
  expect(await client.exists(`${p}mine`, `${p}theirs`)).toBe(1);
  // A pattern character in the owner must not match anything but itself.
  const reply2 = (await client.eval(RELEASE.source, 2, `${p}theirs`, `${p}theirs:w`, "0", ".".repeat(32), "1")) as unknown[];
  expect(reply2).toEqual([`pl1|5|1|1|${DEAD}|1|#${PH}|1|`]);
});

it("RELEASE: a PUBLISH that Redis refuses (an ACL without it) leaves every delete of the batch standing", async () => {
  const p = `s${Math.random().toString(36).slice(2, 8)}:`;
  const user = `nopub-${p.slice(1, -1)}`;
  await client.call("ACL", "SETUSER", user, "reset", "on", "nopass", "+@all", "-publish", "&*", "~*");
  const restricted = new Redis(server.url, { username: user, password: "x" });
  try {
    const own = (seq: string) => `pl1|5|1|1|${PH}|${seq}|`;
    await client.set(`${p}a`, own("1"));
    await client.set(`${p}a:w`, ""); // a waiter flagged it: the release tries to publish
    await client.set(`${p}b`, own("2"));
    const reply = await restricted.eval(RELEASE.source, 4, `${p}a`, `${p}a:w`, `${p}b`, `${p}b:w`, "1", PH, "1", "2");
    expect(reply).toEqual([1, 1]);
    expect(await client.exists(`${p}a`, `${p}a:w`, `${p}b`)).toBe(0);
  } finally {
    restricted.disconnect();
    await client.call("ACL", "DELUSER", user);
  }
});
