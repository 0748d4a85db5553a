import { describe, expect, it } from "vitest";
import { assertLockName, escapeLockName, lockKey, processKey } from "../../src/keys";

/**
 * The hash tag per the Redis Cluster spec: the content between the first "{"
 * and the first "}" after it, if that content is non-empty; otherwise the key
 * has no tag (undefined) and the whole key is hashed.
 */
function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open === -1) return undefined;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

const ADVERSARIAL = [
  "{",
  "}",
  "{}",
  "}{",
  "{a}",
  "x{y}z",
  "\n",
  "%",
  "%7B",
  "%7D",
  "%25",
  "a}b",
  "a%7Db",
  "{{}}",
  "}}}",
  "{{{",
  "job",
  "with space",
  "🔒{😀}",
  "ключ",
  "pl:{x}",
];

describe("escapeLockName", () => {
  it("changes only %, { and }", () => {
    expect(escapeLockName("plain name:1 ü🔒\n")).toBe("plain name:1 ü🔒\n");
    expect(escapeLockName("%{}")).toBe("%25%7B%7D");
    expect(escapeLockName("a{b}c%d")).toBe("a%7Bb%7Dc%25d");
  });

  it("never outputs { or }", () => {
    for (const n of ADVERSARIAL) {
      expect(escapeLockName(n)).not.toMatch(/[{}]/);
    }
  });

  it("is injective on tricky pairs", () => {
    const pairs: Array<[string, string]> = [
      ["a}b", "a%7Db"],
      ["a{b", "a%7Bb"],
      ["%", "%25"],
      ["%7B", "{"],
      ["%7D", "}"],
      ["%257B", "%7B"],
      ["%%", "%25"],
      ["{}", "%7B%7D"],
      ["}", "%7d"],
      ["%7d", "%7D"],
    ];
    for (const [a, b] of pairs) {
      expect(a).not.toBe(b);
      expect(escapeLockName(a), `${a} vs ${b}`).not.toBe(escapeLockName(b));
    }
  });

  it("is injective on every string over an adversarial alphabet up to length 4", () => {
    const alphabet = ["%", "{", "}", "2", "5", "7", "B", "D", "a"];
    const seen = new Map<string, string>();
    const walk = (prefix: string, depth: number) => {
      if (prefix.length > 0) {
        const escaped = escapeLockName(prefix);
        const previous = seen.get(escaped);
        if (previous !== undefined) expect.fail(`${JSON.stringify(previous)} and ${JSON.stringify(prefix)} collide`);
        seen.set(escaped, prefix);
      }
      if (depth === 0) return;
      for (const c of alphabet) walk(prefix + c, depth - 1);
    };
    walk("", 4);
    expect(seen.size).toBe(9 + 81 + 729 + 6561);
  });

  it("can be inverted (percent-decoding gives the name back)", () => {
    for (const n of ADVERSARIAL) {
      expect(decodeURIComponent(escapeLockName(n).replace(/%(?!25|7B|7D)/g, "%25"))).toBe(n);
    }
  });
});

describe("lockKey", () => {
  it("has the documented layout", () => {
    expect(lockKey("", "job")).toBe("pl:{job}");
    expect(lockKey("app:", "a{b}")).toBe("app:pl:{a%7Bb%7D}");
  });

  it("has exactly one non-empty {…} hash tag without } inside, for adversarial names", () => {
    for (const name of ADVERSARIAL) {
      const key = lockKey("app:", name);
      expect(key.split("{").length - 1, key).toBe(1);
      expect(key.split("}").length - 1, key).toBe(1);
      const m = /\{([^}]*)\}/.exec(key)!;
      expect(m, key).not.toBeNull();
      expect(m[1]!.length, key).toBeGreaterThan(0);
      expect(m[1]).not.toContain("}");
      expect(key.endsWith("}")).toBe(true);
    }
  });

  it("gives the escaped name as the Redis Cluster hash tag, for adversarial names", () => {
    for (const name of ADVERSARIAL) {
      for (const prefix of ["", "app:", "}", "a}b:", "}}"]) {
        const key = lockKey(prefix, name);
        expect(hashTag(key), JSON.stringify({ prefix, name })).toBe(escapeLockName(name));
      }
    }
  });

  it("gives distinct keys (and distinct tags) to distinct names", () => {
    const keys = new Set(ADVERSARIAL.map((n) => lockKey("p:", n)));
    expect(keys.size).toBe(new Set(ADVERSARIAL).size);
    const tags = new Set(ADVERSARIAL.map((n) => hashTag(lockKey("p:", n))));
    expect(tags.size).toBe(new Set(ADVERSARIAL).size);
  });

  it('never reaches lockKey with the empty name: assertLockName rejects "" first', () => {
    // lockKey("", "") would be "pl:{}", whose empty tag Redis ignores; every public method asserts first.
    expect(() => assertLockName("", "acquire")).toThrow(TypeError);
    expect(hashTag(lockKey("", ""))).toBeUndefined();
  });

  it("lets a prefix with its own hash tag pin every lock into one slot, as documented", () => {
    // README (Redis Cluster): a prefix like "{app}:" deliberately co-locates all keys; no tag is ever empty.
    for (const name of ["job", "{", "}", "x{y}z"]) {
      expect(hashTag(lockKey("{app}:", name))).toBe("app");
      const tag = hashTag(lockKey("{", name));
      expect(tag).toBe(`pl:{${escapeLockName(name)}`);
    }
    // Without a tag in the prefix, different names get different slots' tags.
    expect(hashTag(lockKey("app:", "a"))).not.toBe(hashTag(lockKey("app:", "b")));
  });
});

describe("processKey", () => {
  it("is <prefix>pl:proc:<processHash> and cannot collide with a lock key", () => {
    const ph = "0123456789abcdef0123456789abcdef";
    expect(processKey("app:", ph)).toBe(`app:pl:proc:${ph}`);
    // A lock key always has "{" right after "pl:", a process key never does.
    expect(processKey("app:", ph)).not.toBe(lockKey("app:", `proc:${ph}`));
    expect(lockKey("app:", `proc:${ph}`).startsWith("app:pl:{")).toBe(true);
  });
});

describe("assertLockName", () => {
  it("throws a TypeError naming the method for the empty string", () => {
    expect(() => assertLockName("", "acquire")).toThrow(TypeError);
    expect(() => assertLockName("", "acquire")).toThrow(/acquire\(\)/);
    expect(() => assertLockName("", "acquire")).toThrow(/empty string/);
  });

  it("throws a TypeError for non-strings", () => {
    for (const v of [undefined, null, 0, 1, NaN, true, {}, [], ["a"], Symbol("k"), 1n, () => "k", new String("k")]) {
      expect(() => assertLockName(v, "release"), String(typeof v)).toThrow(TypeError);
    }
  });

  it("accepts any non-empty string", () => {
    for (const k of [...ADVERSARIAL, " ", "\u0000", "a".repeat(10_000), "\ud800" /* lone surrogate */]) {
      expect(() => assertLockName(k, "acquire")).not.toThrow();
    }
  });
});
