import { describe, expect, it } from "vitest";
import { hasShape } from "../../src/shape";

describe("hasShape", () => {
  it("checks the typeof of each named member, and '!type' for an absent kind", () => {
    const ioredisLike = { evalsha() {}, eval() {}, duplicate() {}, options: {} };
    expect(hasShape(ioredisLike, { evalsha: "function", duplicate: "function", options: "object" })).toBe(true);
    expect(hasShape(ioredisLike, { duplicate: "!function" })).toBe(false);
    expect(hasShape({ evalsha() {} }, { evalsha: "function", eval: "function" })).toBe(false);
    expect(hasShape({ options: null }, { options: "object" })).toBe(false);
    expect(hasShape(null, {})).toBe(false);
    expect(hasShape("x", {})).toBe(false);
  });
});
