import calculateSlot from "cluster-key-slot";
import { describe, expect, it } from "vitest";
import { clusterSlot, hashTag } from "../../src/cluster-slot";

describe("clusterSlot", () => {
  it("agrees with the slot function ioredis itself uses", () => {
    for (const key of ["a", "foo", "bar", "{user1000}.following", "pl:{x}", "ключ🔒", "abc{", "}{", ""]) {
      expect(clusterSlot(key), key).toBe(calculateSlot(key));
    }
  });

  it("follows Redis on empty tags (values from CLUSTER KEYSLOT on redis-server 7)", () => {
    // cluster-key-slot disagrees with Redis on "a{}b{c}"; Redis hashes the whole key when the first tag is empty.
    expect(clusterSlot("a{}b{c}")).toBe(7353);
    expect(clusterSlot("{}a")).toBe(10875);
    expect(clusterSlot("abc{")).toBe(3048);
    expect(clusterSlot("}{")).toBe(12793);
    expect(clusterSlot("foo")).toBe(12182);
  });

  it("hashes only the first non-empty {…} tag", () => {
    expect(hashTag("x:pl:{job}")).toBe("job");
    expect(hashTag("{}job")).toBe("{}job");
    expect(hashTag("a{b")).toBe("a{b");
    expect(clusterSlot("p:pl:{job}")).toBe(clusterSlot("q:pl:proc:{job}"));
  });
});
