import { describe, expect, it } from "vitest";
import { RedisDatabase as CoreRedisDatabase } from "../../src/database";
import type { Transport } from "../../src/transport";
import { RedisDatabase as NodeRedisDatabase } from "../../adapters/ioredis/redis-database";

/** A Transport that never talks to Redis: these tests only construct databases. */
const transport = (waits: boolean): Transport => ({
  kind: "test",
  clientKeyPrefix: "",
  evalsha: async () => null,
  eval: async () => null,
  ...(waits ? { waitForReplicas: async () => 1 } : {}),
});

describe("RedisDatabase options", () => {
  it("rejects a prefix that is not a string, and waitForReplicas that is not a whole number >= 0", () => {
    for (const prefix of [1, null, {}]) {
      expect(() => new CoreRedisDatabase(transport(false), { prefix: prefix as never })).toThrow(/prefix must be a string/);
    }
    for (const waitForReplicas of [-1, 1.5, Number.NaN, Infinity, "1"]) {
      expect(() => new NodeRedisDatabase(transport(true), { waitForReplicas: waitForReplicas as never })).toThrow(TypeError);
    }
  });

  it("waitForReplicas needs a client that can WAIT and an entry that implements it (the Node one)", () => {
    expect(() => new NodeRedisDatabase(transport(false), { waitForReplicas: 1 })).toThrow(/cannot WAIT/);
    // The runtime-agnostic entry never waits, so it refuses rather than silently skipping the WAIT.
    expect(() => new CoreRedisDatabase(transport(true), { waitForReplicas: 1 })).toThrow(/cannot WAIT/);
    expect(new NodeRedisDatabase(transport(true), { waitForReplicas: 1 }).waitForReplicas).toBe(1);
    expect(new CoreRedisDatabase(transport(true), { waitForReplicas: 0 }).waitForReplicas).toBe(0);
  });

  it("the Node entry's replicated() reports too few replicas as a transient NOREPLICAS error", async () => {
    const db = new NodeRedisDatabase({ ...transport(true), waitForReplicas: async () => 0 }, { waitForReplicas: 1, replicationTimeoutMs: 10 });
    await expect(db.replicated("acquire", "k")).rejects.toMatchObject({ name: "RedisCommandError", code: "NOREPLICAS", transient: true });
  });
});

describe("RedisDatabase options: null is not a default", () => {
  it("rejects null options and null option values instead of reading them as defaults", () => {
    expect(() => new CoreRedisDatabase(transport(false), null as never)).toThrow(/options must be an object/);
    expect(() => new NodeRedisDatabase(transport(true), { waitForReplicas: null as never })).toThrow(TypeError);
    expect(() => new CoreRedisDatabase(transport(false), { replicationTimeoutMs: null as never })).toThrow(/replicationTimeoutMs/);
  });
});
