import { describe as group, expect, it } from "vitest";
import { describe } from "../../src/describe-value";

/** How refused values appear in messages: enough to recognise them, never what a client or credential holds. */
group("describe()", () => {
  it("shows primitives as they are, strings quoted and cut at 80 characters", () => {
    expect(describe(42)).toBe("42");
    expect(describe(null)).toBe("null");
    expect(describe(undefined)).toBe("undefined");
    expect(describe(7n)).toBe("7n");
    expect(describe(Symbol("k"))).toBe("Symbol(k)");
    expect(describe("job")).toBe('"job"');
    expect(describe("x".repeat(200))).toBe(`"${"x".repeat(80)}… (200 characters)"`);
    expect(describe(() => 1)).toBe("a function");
  });

  it("masks the password of a URL", () => {
    expect(describe("redis://default:hunter2@h:6379")).toBe('"redis://default:***@h:6379"');
    expect(describe("redis://:hunter2@h:6379")).toBe('"redis://:***@h:6379"');
    expect(describe("rediss://hunter2@h")).toBe('"rediss://***@h"');
    // ioredis also takes the password from the query (found by an attack pass).
    expect(describe("redis://h:6379?password=hunter2&db=1")).toBe('"redis://h:6379?password=***&db=1"');
  });

  it("shows a plain object one level deep, with credential-like keys masked", () => {
    expect(describe({})).toBe("an empty object {}");
    expect(describe({ ms: 1, name: "a" })).toBe('an object {"ms":1,"name":"a"}');
    expect(describe({ password: "hunter2", token: "t0k", url: "https://x", auth: "a", nested: { password: "p" }, list: ["p"] })).toBe(
      'an object {"password":***,"token":***,"url":***,"auth":***,"nested":{…},"list":[1 items]}',
    );
  });

  it("shows a class instance by its class alone (a client's options stay inside)", () => {
    class Redis {
      options = { password: "hunter2" };
    }
    expect(describe(new Redis())).toBe("a Redis object");
    expect(describe(new Map([["password", "hunter2"]]))).toBe("a Map object");
    expect(describe(new (class EventEmitter {})())).toBe("an EventEmitter object");
    expect(describe(Object.create(null))).toBe("an empty object {}");
  });

  it("shows an array by its first items, one level deep", () => {
    expect(describe([1, "a", null, { x: 1 }])).toBe('an array [1,"a",null,{…}]');
    expect(describe([1, 2, 3, 4, 5, 6, 7, 8])).toBe("an array [1,2,3,4,5,6,… 2 more]");
  });
});
