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
