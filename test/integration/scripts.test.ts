import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ACQUIRE } from "../../src/scripts/acquire";
import { EXTEND } from "../../src/scripts/extend";
import { READ } from "../../src/scripts/read";
import { RELEASE } from "../../src/scripts/release";
import { REMOVE } from "../../src/scripts/remove";
import { REPORT } from "../../src/scripts/report";
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

it.each([ACQUIRE, EXTEND, RELEASE, READ, REPORT, REMOVE])("the precomputed SHA1 of $name matches SCRIPT LOAD", async (script) => {
  expect(await client.script("LOAD", script.source)).toBe(script.sha);
});

/**
 * ACQUIRE at script level, on the server's SET NX GET and on the GET-then-SET
 * path that a server without it (Redis < 7.0) takes: here forced by a variant
 * whose SET option is misspelt, which Redis answers with "ERR syntax error".
 */
const LEGACY = { ...ACQUIRE, source: ACQUIRE.source.replace("'NX','GET'", "'NX','GETX'") };
const PH = "a".repeat(32);
const DEAD = "b".repeat(32);

it.each([
  ["SET NX GET", ACQUIRE],
  ["GET then SET", LEGACY],
])("ACQUIRE (%s): free, held, taken over from the named victim only, tokens increase, a foreign type fails alone", async (_, script) => {
  expect(script.source).toContain(script === LEGACY ? "GETX" : "'NX','GET'");
  const p = `s${Math.random().toString(36).slice(2, 8)}:`;
  await client.set(`${p}live`, "1");
  const run = async (locks: [string, string][]) =>
    (await client.eval(script.source, locks.length * 2 + 1, ...locks.flatMap(([k]) => [`${p}${k}`, `${p}${k}:w`]), `${p}live`, PH, "60000", ...locks.map(([, a]) => a))) as [number, string][];
  await client.hset(`${p}hash`, "f", "v");
  await client.set(`${p}held`, `pl1|5|1|1|${DEAD}|7|`);
  const [free, held, wrong] = await run([["free", "1||||#t"], ["held", "2||1000||"], ["hash", "3||||"]]);
  expect(free![0]).toBe(1);
  expect(free![1]).toMatch(/^\d{16}\|\d{13}$/); // "token|acquiredAtMs": the caller knows the rest
  const [freeToken, freeMs] = free![1].split("|");
  expect(await client.get(`${p}free`)).toBe(`pl1|${freeToken}|${freeMs}|${freeMs}|${PH}|1|#t`);
  expect(held).toEqual([0, `pl1|5|1|1|${DEAD}|7|`]);
  expect(await client.pttl(`${p}held:w`)).toBeGreaterThan(0); // the waiter's flag
  expect(wrong![0]).toBe(-3);
  expect(String(wrong![1])).toMatch(/^WRONGTYPE/);
  // A takeover names the dead holder: a wrong seq is refused, the right one wins with a greater token.
  const [refused] = await run([["held", `4|8||${DEAD}|`]]);
  expect(refused![0]).toBe(0);
  const [taken] = await run([["held", `4|7||${DEAD}|`]]);
  expect(taken![0]).toBe(1);
  const token = Number(taken![1].split("|")[0]);
  expect(token).toBeGreaterThan(5);
  expect(await client.get(`${p}held`)).toMatch(new RegExp(`^pl1\\|${token}\\|\\d+\\|\\d+\\|${PH}\\|4\\|$`));
  // Our own record is held, not retaken.
  const [mine] = await run([["held", "5||||"]]);
  expect(mine).toEqual([0, await client.get(`${p}held`)]);
  // Without our liveness record the whole batch is refused.
  await client.del(`${p}live`);
  expect(await run([["other", "6||||"]])).toEqual([-2]);
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
    const reply = await restricted.eval(RELEASE.source, 4, `${p}a`, `${p}a:w`, `${p}b`, `${p}b:w`, "1", `${PH}|1`, `${PH}|2`);
    expect(reply).toEqual([[1], [1]]);
    expect(await client.exists(`${p}a`, `${p}a:w`, `${p}b`)).toBe(0);
  } finally {
    restricted.disconnect();
    await client.call("ACL", "DELUSER", user);
  }
});
