// The upstash-dev server (Upstash REST protocol → RESP2) against the REAL,
// unmodified @upstash/redis client and a real redis-server: if the client
// works here, it works against the fixture pulselock's Upstash tests use.
// Raw fetch() checks pin down the wire format where the client hides it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { errors, Redis, type RedisConfigNodejs } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstashDevServer, type UpstashDevServer } from "../../cli/upstash-dev/server";
import { freePort, startRedis } from "../support/redis-server.mjs";
import { uniqueKey, waitFor } from "../support/wait-for";

/** The package's `pulselock` bin, built by tsup from cli/main.ts; the tests run its `upstash-dev` command. */
const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

let redisServer: Awaited<ReturnType<typeof startRedis>>;
let dev: UpstashDevServer;

beforeAll(async () => {
  redisServer = await startRedis();
  dev = await startUpstashDevServer({ redisUrl: redisServer.url });
});
afterAll(async () => {
  await dev?.close();
  await redisServer?.close();
});

function client(options: Partial<RedisConfigNodejs> = {}): Redis {
  return new Redis({ url: dev.url, token: dev.token, enableTelemetry: false, ...options });
}

interface RawAnswer {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

/** A request without the client, to see status codes and bodies as sent. Strings are sent verbatim. */
async function raw(path: string, body: unknown, init: { method?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const res = await fetch(dev.url + path, {
    method: init.method ?? "POST",
    headers: { authorization: `Bearer ${dev.token}`, "content-type": "application/json", ...init.headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // a test that expects JSON fails on `undefined`
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Runs `fn`, returning what it threw and how long it took (failures must be fast, not retried for seconds). */
async function timedFailure(fn: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
  throw new Error("expected the call to fail");
}

describe("commands through the real @upstash/redis client", () => {
  it("set / get / incr / del", async () => {
    const redis = client();
    const k = uniqueKey("ud:basic");
    expect(await redis.set(k, "value")).toBe("OK");
    expect(await redis.get(k)).toBe("value");
    expect(await redis.incr(`${k}:n`)).toBe(1);
    expect(await redis.incrby(`${k}:n`, 41)).toBe(42);
    expect(await redis.del(k, `${k}:n`)).toBe(2);
    expect(await redis.get(k)).toBeNull();
  });

  it("hgetall: the server answers a flat RESP2 array on POST /, the client makes it an object", async () => {
    const redis = client();
    const k = uniqueKey("ud:hash");
    await redis.hset(k, { name: "ada", age: 36 });
    const before = dev.stats().requests["/"] ?? 0;
    expect(await redis.hgetall(k)).toEqual({ name: "ada", age: 36 });
    expect(dev.stats().requests["/"]).toBe(before + 1); // hgetall is excluded from auto-pipelining
    const wire = await raw("/", ["hgetall", k]);
    expect(wire).toMatchObject({ status: 200, body: { result: ["name", "ada", "age", "36"] } });
  });

  it("auto-pipelines concurrent commands into a few POST /pipeline requests, answers in order", async () => {
    const redis = client();
    const k = uniqueKey("ud:auto");
    const before = dev.stats();
    await Promise.all(Array.from({ length: 20 }, (_, i) => redis.set(`${k}:${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => redis.get(`${k}:${i}`)));
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    const after = dev.stats();
    expect((after.commands.set ?? 0) - (before.commands.set ?? 0)).toBe(20);
    const pipelines = (after.requests["/pipeline"] ?? 0) - (before.requests["/pipeline"] ?? 0);
    expect(pipelines).toBeGreaterThanOrEqual(1);
    expect(pipelines).toBeLessThanOrEqual(4); // 40 without batching
  });

  it("explicit pipeline: an inline error fails only its own command", async () => {
    const redis = client();
    const k = uniqueKey("ud:pipe");
    const results = await redis.pipeline().set(k, "not a number").incr(k).get(k).incr(`${k}:n`).exec({ keepErrors: true });
    expect(results[0]).toMatchObject({ result: "OK" });
    expect(results[1]?.error).toMatch(/ERR value is not an integer/);
    expect(results[2]).toMatchObject({ result: "not a number" });
    expect(results[3]).toMatchObject({ result: 1 });
    // Without keepErrors the client reports which command failed.
    await expect(redis.pipeline().get(k).incr(k).exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer/);
  });

  it("multi(): a transaction runs atomically and returns every result", async () => {
    const redis = client();
    const k = uniqueKey("ud:tx");
    expect(await redis.multi().set(k, 1).incr(k).get(k).exec()).toEqual(["OK", 2, 2]);
    // A runtime error inside EXEC is an inline {error}; the other commands still ran (no rollback in Redis).
    const results = await redis.multi().set(k, "x").incr(k).get(k).exec({ keepErrors: true });
    expect(results[1]?.error).toMatch(/ERR value is not an integer/);
    expect(results[2]).toMatchObject({ result: "x" });
  });

  it("multi(): concurrent transactions each get their own connection (no 'MULTI calls can not be nested')", async () => {
    const redis = client();
    const k = uniqueKey("ud:tx-concurrent");
    const results = await Promise.all(Array.from({ length: 24 }, () => redis.multi().incr(k).incr(k).exec()));
    // Atomic: every transaction saw its two increments back to back.
    for (const [a, b] of results) expect(b).toBe((a as number) + 1);
    expect(results.map(([a]) => a).sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 24 }, (_, i) => 2 * i + 1));
  });

  it("multi-exec: a queue-time error aborts the whole transaction with 400 EXECABORT", async () => {
    const k = uniqueKey("ud:tx-abort");
    const answer = await raw("/multi-exec", [["set", k, "1"], ["no-such-command"]]);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: expect.stringMatching(/^EXECABORT .*unknown command/) });
    expect(await client().exists(k)).toBe(0);
  });
});

describe("scripting", () => {
  it("EVAL: numbers truncate to integers, strings stay strings, tables stop at the first nil", async () => {
    const redis = client();
    const k = uniqueKey("ud:eval");
    const src = "redis.call('set', KEYS[1], ARGV[1]); return {1, 'two', 3.9, ARGV[2], nil, 'after'}";
    expect(await redis.eval(src, [k], ["stored", "x"])).toEqual([1, "two", 3, "x"]);
    expect(await redis.get(k)).toBe("stored");
    expect(await redis.eval("return false", [], [])).toBeNull();
    expect(await redis.eval("return {ok='FINE'}", [], [])).toBe("FINE");
    // JSON numbers and booleans arrive as strings, as Redis requires.
    expect(await redis.eval("return ARGV[1] .. '|' .. ARGV[2]", [], [7, true])).toBe("7|true");
    await expect(redis.eval("return redis.error_reply('MYERR boom')", [], [])).rejects.toThrow(/MYERR boom/);
  });

  it("EVALSHA after SCRIPT LOAD, with keys and args", async () => {
    const redis = client();
    const k = uniqueKey("ud:evalsha");
    const sha = await redis.scriptLoad("return {KEYS[1], ARGV[1], redis.call('incrby', KEYS[1], ARGV[1])}");
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.evalsha(sha, [k], [5])).toEqual([k, 5, 5]);
    expect(await redis.evalsha(sha, [k], [5])).toEqual([k, 5, 10]);
  });

  it("createScript().exec falls back from EVALSHA to EVAL on NOSCRIPT, also after scriptFlush", async () => {
    const redis = client();
    const script = redis.createScript<string>(`return 'hello ' .. ARGV[1] -- ${uniqueKey("unique source")}`);
    const count = () => {
      const { commands } = dev.stats();
      return { evalsha: commands.evalsha ?? 0, eval: commands.eval ?? 0 };
    };
    let before = count();
    expect(await script.exec([], ["a"])).toBe("hello a");
    expect(count()).toEqual({ evalsha: before.evalsha + 1, eval: before.eval + 1 }); // NOSCRIPT, then EVAL

    before = count();
    expect(await script.exec([], ["b"])).toBe("hello b");
    expect(count()).toEqual({ evalsha: before.evalsha + 1, eval: before.eval }); // cached by the EVAL

    expect(await redis.scriptFlush()).toBe("OK");
    await expect(script.evalsha([], ["c"])).rejects.toThrow(/NOSCRIPT/);
    before = count();
    expect(await script.exec([], ["d"])).toBe("hello d");
    expect(count()).toEqual({ evalsha: before.evalsha + 1, eval: before.eval + 1 });
  });

  it("NOSCRIPT text is preserved: 400 on POST /, inline on /pipeline", async () => {
    const sha = "0".repeat(40);
    expect(await raw("/", ["evalsha", sha, 0])).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^NOSCRIPT /) } });
    const answer = await raw("/pipeline", [["evalsha", sha, 0], ["ping"]]);
    expect(answer).toMatchObject({ status: 200, body: [{ error: expect.stringMatching(/^NOSCRIPT /) }, { result: "PONG" }] });
  });
});

describe("values", () => {
  const awkward = [
    "emoji 😀🎉 and ZWJ 👩‍👩‍👧",
    "line1\nline2\r\nline3",
    'tab\tquote"backslash\\',
    "nul\u0000byte",
    "中文 ünïcödé ✓",
    "  spaces around  ",
    "OK",
    "PONG",
  ];

  it.each([
    ["base64 responses (default)", {}],
    ["UTF-8 responses (responseEncoding: false)", { responseEncoding: false as const }],
  ])("non-ASCII and control characters round-trip with %s", async (_label, options) => {
    const redis = client(options);
    const k = uniqueKey("ud:awkward");
    await Promise.all(awkward.map((v, i) => redis.set(`${k}:${i}`, v)));
    expect(await Promise.all(awkward.map((_, i) => redis.get(`${k}:${i}`)))).toEqual(awkward);
    expect(await redis.mget(...awkward.map((_, i) => `${k}:${i}`))).toEqual(awkward);
  });

  it("base64 is computed from the raw bytes, not from a decoded string", async () => {
    const k = uniqueKey("ud:bytes");
    await client().eval("return redis.call('set', KEYS[1], string.char(0, 200, 255, 10))", [k], []);
    expect((await raw("/", ["get", k], { headers: { "upstash-encoding": "base64" } })).body).toEqual({ result: "AMj/Cg==" });
    // Status replies and strings nested in arrays are encoded too; integers and nil are not.
    const nested = await raw("/", ["eval", "return {'a', {'b', 2}, 3}", 0], { headers: { "upstash-encoding": "base64" } });
    expect(nested.body).toEqual({ result: ["YQ==", ["Yg==", 2], 3] });
    expect((await raw("/", ["ping"], { headers: { "upstash-encoding": "base64" } })).body).toEqual({ result: "UE9ORw==" });
    expect((await raw("/", ["get", uniqueKey("ud:missing")], { headers: { "upstash-encoding": "base64" } })).body).toEqual({ result: null });
    // Without the header: plain UTF-8 text.
    expect((await raw("/", ["ping"])).body).toEqual({ result: "PONG" });
  });

  it("multi-MB values round-trip; bodies over 10 MB get 413 JSON", async () => {
    const redis = client();
    const k = uniqueKey("ud:big");
    const big = "x".repeat(5 * 1024 * 1024) + "😀";
    expect(await redis.set(k, big)).toBe("OK");
    expect(await redis.get(k)).toBe(big);
    const tooBig = await raw("/", ["set", k, "y".repeat(11 * 1024 * 1024)]);
    expect(tooBig).toMatchObject({ status: 413, body: { error: expect.stringMatching(/exceeds/) } });
    expect(await redis.strlen(k)).toBe(big.length + 2); // the emoji is 4 bytes, 2 UTF-16 units
  });

  it("a large array reply that spans many TCP reads is parsed intact", async () => {
    const redis = client();
    const k = uniqueKey("ud:list");
    const n = 20_000;
    const fill = "for i = 1, tonumber(ARGV[1]) do redis.call('rpush', KEYS[1], 'item ' .. i .. ' 😀') end return 1";
    await redis.eval(fill, [k], [n]);
    const items = await redis.lrange<string>(k, 0, -1);
    expect(items).toHaveLength(n);
    expect(items.every((item, i) => item === `item ${i + 1} 😀`)).toBe(true);
  });

  it("the client deserializes values that look like numbers or JSON (automaticDeserialization)", async () => {
    const redis = client();
    const plain = client({ automaticDeserialization: false });
    const k = uniqueKey("ud:json");
    const cases: Array<[stored: string, seen: unknown]> = [
      ["123", 123], // a number that round-trips becomes a number…
      ["1.50", "1.50"], // …one that doesn't stays a string
      ["12345678901234567890", "12345678901234567890"],
      ["true", true],
      ['"quoted"', "quoted"],
      ['{"a":[1,2]}', { a: [1, 2] }],
      ["null", null], // indistinguishable from a missing key
    ];
    for (const [i, [stored, seen]] of cases.entries()) {
      await redis.set(`${k}:${i}`, stored);
      expect(await redis.get(`${k}:${i}`)).toEqual(seen);
      expect(await plain.get(`${k}:${i}`)).toBe(stored); // the server sent the string as stored
    }
    await redis.set(`${k}:obj`, { nested: { n: 1 } }); // objects are sent as JSON text
    expect(await redis.get(`${k}:obj`)).toEqual({ nested: { n: 1 } });
    expect(await plain.get(`${k}:obj`)).toBe('{"nested":{"n":1}}');
  });
});

describe("HTTP surface", () => {
  it("a wrong token makes the client throw; the wire answer is 401 JSON", async () => {
    const { error, ms } = await timedFailure(() => client({ token: "wrong" }).get("k"));
    expect(error).toBeInstanceOf(errors.UpstashError);
    expect((error as Error).message).toMatch(/^Unauthorized/);
    expect(ms).toBeLessThan(2000);
    const answer = await raw("/", ["get", "k"], { headers: { authorization: "Bearer wrong" } });
    expect(answer).toMatchObject({ status: 401, body: { error: "Unauthorized" } });
  });

  it("missing or malformed auth → 401; ?_token= is accepted", async () => {
    const noAuth = await fetch(`${dev.url}/`, { method: "POST", body: '["ping"]' });
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toEqual({ error: "Unauthorized" });
    expect(await raw("/", ["ping"], { headers: { authorization: `Basic ${dev.token}` } })).toMatchObject({ status: 401 });
    const viaQuery = await fetch(`${dev.url}/?_token=${encodeURIComponent(dev.token)}`, { method: "POST", body: '["ping"]' });
    expect(await viaQuery.json()).toEqual({ result: "PONG" });
  });

  it.each([
    ["/", "not json"],
    ["/", { set: "k" }],
    ["/", []],
    ["/", [1, "a"]],
    ["/", ["get", { a: 1 }]],
    ["/", ["get", ["nested"]]],
    ["/", ["get", null]],
    ["/", ["subscribe", "channel"]],
    ["/pipeline", ["get", "a"]],
    ["/pipeline", []],
    ["/pipeline", [["get", "a"], "ping"]],
    ["/multi-exec", [["multi"], ["get", "a"]]],
  ])("POST %s with body %j → 400 JSON", async (path, body) => {
    const answer = await raw(path, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: expect.any(String) });
  });

  it("a Redis error on POST / is 400 with Redis's message; the client throws it", async () => {
    const k = uniqueKey("ud:wrongtype");
    await client().set(k, "string");
    expect(await raw("/", ["incr", k])).toMatchObject({ status: 400, body: { error: "ERR value is not an integer or out of range" } });
    await expect(client().hgetall(k)).rejects.toThrow(/WRONGTYPE/); // hgetall goes to POST /
  });

  it("404 / 405 / 501 JSON for other routes and methods; GET / is a 200 JSON health check", async () => {
    expect(await raw("/nope", ["ping"])).toMatchObject({ status: 404, body: { error: expect.any(String) } });
    expect(await raw("/pipeline/extra", [["ping"]])).toMatchObject({ status: 404, body: { error: expect.any(String) } });
    const get = await raw("/pipeline", undefined, { method: "GET" });
    expect(get).toMatchObject({ status: 405, body: { error: expect.any(String) } });
    expect(get.headers.get("allow")).toBe("POST");
    expect(await raw("/", "[]", { method: "PUT" })).toMatchObject({ status: 405, body: { error: expect.any(String) } });
    expect(await raw("/subscribe/chan", [])).toMatchObject({ status: 501, body: { error: expect.stringMatching(/SSE/) } });
    expect(await raw("/", undefined, { method: "GET", headers: { authorization: "" } })).toMatchObject({
      status: 200,
      body: { status: "ok", redis: "up" },
    });
  });

  it("tolerates a charset in the content type and extra headers; sends an upstash-sync-token", async () => {
    const answer = await raw("/pipeline", [["ping"]], {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "upstash-sync-token": "whatever",
        "Upstash-Telemetry-Sdk": "test",
        "x-anything": "1",
      },
    });
    expect(answer).toMatchObject({ status: 200, body: [{ result: "PONG" }] });
    const first = Number(answer.headers.get("upstash-sync-token"));
    const second = Number((await raw("/", ["ping"])).headers.get("upstash-sync-token"));
    expect(second).toBeGreaterThan(first);
  });
});

describe("fault injection", () => {
  it.each([401, 429, 500, 503] as const)("HTTP %i → UpstashError at once, then normal service", async (status) => {
    const redis = client();
    const k = uniqueKey("ud:fault");
    dev.inject({ status });
    const { error, ms } = await timedFailure(() => redis.set(k, "v"));
    expect(error).toBeInstanceOf(errors.UpstashError);
    expect((error as Error).message).toContain(`injected HTTP ${status}`);
    expect(ms).toBeLessThan(2000);
    expect(await redis.exists(k)).toBe(0); // the faulted request never reached Redis
    expect(await redis.set(k, "v")).toBe("OK");
  });

  it("a non-JSON body → UpstashJSONParseError", async () => {
    dev.inject({ status: 500, body: "<html>Bad Gateway</html>" });
    const { error } = await timedFailure(() => client().get(uniqueKey("ud:fault")));
    expect(error).toBeInstanceOf(errors.UpstashJSONParseError);
    expect((error as Error).message).toContain("<html>Bad Gateway</html>");
  });

  it("times: N faults the next N requests; clear removes the rest", async () => {
    const redis = client();
    dev.inject({ status: 429, times: 2 });
    await expect(redis.ping()).rejects.toThrow(/429/);
    await expect(redis.ping()).rejects.toThrow(/429/);
    expect(await redis.ping()).toBe("PONG");
    dev.inject({ status: 503, times: Infinity });
    await expect(redis.ping()).rejects.toThrow(/503/);
    dev.inject({ clear: true });
    expect(await redis.ping()).toBe("PONG");
    expect(() => dev.inject({ status: 418 as 429 })).toThrow(TypeError);
    expect(() => dev.inject({ delayMs: -1 })).toThrow(TypeError);
  });

  it("delayMs holds the answer after the command ran", async () => {
    const redis = client();
    const k = uniqueKey("ud:delay");
    dev.inject({ delayMs: 300 });
    const started = performance.now();
    const pending = redis.set(k, "v");
    // The command reaches Redis before the answer is released.
    await waitFor("the delayed SET to reach Redis", async () => (await redisServer.command(`EXISTS ${k}`)).startsWith(":1"));
    expect(await pending).toBe("OK");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("the CLI (pulselock upstash-dev)", () => {
  interface Cli {
    exited: Promise<number | null>;
    stdout: string[];
    stderr: () => string;
    line(pattern: RegExp): Promise<RegExpExecArray>;
    kill(signal: NodeJS.Signals): void;
  }

  function runCli(args: string[]): Cli {
    expect(existsSync(CLI), `${CLI} is missing: run npx tsup (entry "cli")`).toBe(true);
    const proc = spawn(process.execPath, [CLI, "upstash-dev", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const stdout: string[] = [];
    let stderr = "";
    createInterface({ input: proc.stdout }).on("line", (l) => stdout.push(l));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    running.push(proc);
    return {
      exited,
      stdout,
      stderr: () => stderr,
      kill: (signal) => void proc.kill(signal),
      line: (pattern) =>
        waitFor(`CLI output matching ${pattern} (stderr: ${stderr})`, () => {
          for (const l of stdout) {
            const m = pattern.exec(l);
            if (m) return m;
          }
          if (proc.exitCode !== null) throw new Error(`CLI exited with ${proc.exitCode}: ${stderr}`);
          return undefined;
        }),
    };
  }
  const running: ReturnType<typeof spawn>[] = [];
  afterAll(() => {
    for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  });

  it("serves the protocol on the given port and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const cli = runCli(["upstash-dev", "--redis", redisServer.url, "--port", String(port), "--token", "cli-token"]);
    const [, url] = await cli.line(/^UPSTASH_REDIS_REST_URL=(\S+)$/);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect((await cli.line(/^UPSTASH_REDIS_REST_TOKEN=(\S+)$/))[1]).toBe("cli-token");
    const redis = new Redis({ url: url!, token: "cli-token", enableTelemetry: false });
    const k = uniqueKey("ud:cli");
    expect(await redis.set(k, "via cli")).toBe("OK");
    expect(await redis.get(k)).toBe("via cli");
    cli.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("prints the Redis URL without its password (found by an attack pass: the banner showed it)", async () => {
    const password = "banner-s3cret-pass";
    const withPassword = redisServer.url.replace("redis://", `redis://:${password}@`);
    const cli = runCli(["upstash-dev", "--redis", withPassword, "--port", "0"]);
    const [banner] = await cli.line(/^upstash-dev: Upstash REST protocol on .*$/);
    expect(banner).toContain("redis://:***@127.0.0.1:");
    expect(banner).not.toContain(password);
    cli.kill("SIGTERM");
    await cli.exited;
  });

  it("generates a random token when none is given (SIGINT also exits 0)", async () => {
    const cli = runCli(["--redis", redisServer.url, "--port", "0"]);
    const [, url] = await cli.line(/^UPSTASH_REDIS_REST_URL=(\S+)$/);
    const [, token] = await cli.line(/^UPSTASH_REDIS_REST_TOKEN=(\S+)$/);
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await new Redis({ url: url!, token: token!, enableTelemetry: false }).ping()).toBe("PONG");
    cli.kill("SIGINT");
    expect(await cli.exited).toBe(0);
  });

  it.each([
    [[], /--redis is required/],
    [["--redis", "http://127.0.0.1:1"], /unsupported Redis URL scheme/],
    [["--redis", "redis://127.0.0.1:1", "--port", "http"], /--port must be an integer/],
    [["--redis", "redis://127.0.0.1:1", "--port"], /--port needs a value/],
    [["--redis", "redis://127.0.0.1:1", "--verbose"], /unknown option --verbose/],
  ])("bad arguments %j → exit 2 with a clear message", async (args, message) => {
    const cli = runCli(["upstash-dev", ...args]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(message);
    expect(cli.stderr()).toContain("usage: pulselock upstash-dev");
  });
});

// Last: it restarts redis-server, which empties it.
describe("Redis unavailable", () => {
  it("answers 502 JSON when a frozen redis-server sends no reply within replyTimeoutMs, and recovers when it thaws", async () => {
    const impatient = await startUpstashDevServer({ redisUrl: redisServer.url, replyTimeoutMs: 500 });
    const post = async (body: unknown) => {
      const res = await fetch(impatient.url, { method: "POST", headers: { authorization: `Bearer ${impatient.token}` }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { result?: unknown; error?: string } };
    };
    const k = uniqueKey("ud:frozen");
    try {
      expect(await post(["set", k, "v"])).toEqual({ status: 200, body: { result: "OK" } });
      redisServer.signal("SIGSTOP");
      try {
        const t0 = performance.now();
        const frozen = await post(["get", k]);
        expect(performance.now() - t0).toBeLessThan(5_000);
        expect(frozen.status).toBe(502);
        expect(frozen.body.error).toMatch(/Redis unavailable: no reply from Redis within 500 ms/);
      } finally {
        redisServer.signal("SIGCONT");
      }
      // The timed-out connection was replaced: the next request is answered normally.
      expect(await post(["get", k])).toEqual({ status: 200, body: { result: "v" } });
    } finally {
      await impatient.close();
    }
  });

  it("answers 502 JSON at once while redis-server is down, and recovers when it is back", async () => {
    const redis = client();
    const k = uniqueKey("ud:down");
    expect(await redis.set(k, "before")).toBe("OK");
    await redisServer.stop();
    try {
      const { error, ms } = await timedFailure(() => redis.get(k));
      expect(error).toBeInstanceOf(errors.UpstashError);
      expect((error as Error).message).toMatch(/Redis unavailable/);
      expect(ms).toBeLessThan(2000); // a dropped socket would be retried for ~4.3 s
      for (const path of ["/", "/pipeline", "/multi-exec"]) {
        const body = path === "/" ? ["get", k] : [["get", k]];
        expect(await raw(path, body)).toMatchObject({ status: 502, body: { error: expect.stringMatching(/Redis unavailable/) } });
      }
      expect((await raw("/", undefined, { method: "GET" })).body).toEqual({ status: "ok", redis: "down" });
    } finally {
      await redisServer.restart();
    }
    // The pool reconnects lazily; the restarted server is empty.
    expect(await waitFor("the client to work again", async () => (await redis.set(k, "after")) === "OK")).toBe(true);
    expect(await redis.get(k)).toBe("after");
  });
});
