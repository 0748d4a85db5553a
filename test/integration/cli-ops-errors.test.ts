import { spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../support/run-cli";
import { freePort, startRedis } from "../support/redis-server.mjs";
import { useUpstashStack } from "../support/upstash-stack";
import { runCli } from "../support/run-cli";

/*
 * What `pulselock inspect` and `pulselock release` say when they cannot do
 * their job: a wrong password or token, an unreachable host, a malformed URL,
 * missing options. Each is one line on stderr with exit code 1 (2 for a usage
 * error), no stack trace, and never the password or token.
 */
const PASSWORD = "s3cret-Pa55word";
const WRONG = "wrong-Pa55word-xyz";
const TOKEN_WRONG = "not-the-token-0123456789";

/** The output holds no secret and no stack trace, and it is one message. */
function expectCleanFailure(r: { code: number | null; stdout: string; stderr: string }, code = 1, secrets: string[] = [PASSWORD, WRONG, TOKEN_WRONG]) {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe("");
  for (const s of secrets) expect(r.stderr + r.stdout).not.toContain(s);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(/^pulselock (inspect|release): /);
}

describe("against a Redis that wants a password", () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    // Set after the start: the harness waits for an unauthenticated PING.
    server = await startRedis();
    await server.command(`CONFIG SET requirepass ${PASSWORD}`);
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(["inspect", "release"])("%s with a wrong password says so, without printing it", async (command) => {
    const args = command === "release" ? ["release", "some-lock"] : ["inspect"];
    const r = await runCli([...args, "--redis", `redis://:${WRONG}@127.0.0.1:${server.port}`]);
    expectCleanFailure(r);
    expect(r.stderr).toContain("wrong user name or password");
    expect(r.stderr).toContain(`redis://:***@127.0.0.1:${server.port}`);
  });

  it("without a password it says that Redis needs one", async () => {
    const r = await runCli(["inspect", "--redis", `redis://127.0.0.1:${server.port}`]);
    expectCleanFailure(r);
    expect(r.stderr).toContain("Redis needs a password");
  });

  it("with the right password it works, and the password is not shown", async () => {
    const r = await runCli(["inspect", "--redis", `redis://:${PASSWORD}@127.0.0.1:${server.port}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("0 locks held");
    expect(r.stdout).not.toContain(PASSWORD);
  });
});

describe("unreachable hosts and malformed URLs", () => {
  it.each(["inspect", "release"])("%s against a port where nothing listens fails in seconds with the cause", async (command) => {
    const port = await freePort();
    const args = command === "release" ? ["release", "some-lock"] : ["inspect"];
    const r = await runCli([...args, "--redis", `redis://:${PASSWORD}@127.0.0.1:${port}`]);
    expectCleanFailure(r);
    expect(r.stderr).toContain("ECONNREFUSED");
    expect(r.stderr).toContain("is the host and port right");
  });

  it.each(["inspect", "release"])(
    "%s against a host that takes the connection and never answers fails in seconds",
    async (command) => {
      // A frozen redis-server, or a --redis URL that points at some other, silent service (found by an attack pass).
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => sockets.add(socket.on("error", () => {})));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      try {
        const port = (silent.address() as { port: number }).port;
        const args = command === "release" ? ["release", "some-lock"] : ["inspect"];
        const started = performance.now();
        const r = await runCli([...args, "--redis", `redis://:${PASSWORD}@127.0.0.1:${port}`]);
        expectCleanFailure(r);
        expect(r.stderr).toMatch(/timed out|no reply/);
        expect(performance.now() - started).toBeLessThan(20_000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    },
    30_000,
  );

  it("a host that does not resolve", async () => {
    const r = await runCli(["inspect", "--redis", "redis://no-such-host.invalid:6390"]);
    expectCleanFailure(r);
    expect(r.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it.each([
    [["--redis", `http://:${PASSWORD}@127.0.0.1:1`], /--redis must start with redis: or rediss:/],
    [["--redis", `not a url ${PASSWORD}`], /--redis is not a URL/],
    [["--upstash-url", `ftp://x`, "--upstash-token", PASSWORD], /--upstash-url must start with https: or http:/],
  ])("a malformed URL is a usage error that does not echo it (%s)", async (args, message) => {
    const r = await runCli(["inspect", ...args]);
    expectCleanFailure(r, 2);
    expect(r.stderr).toMatch(message);
  });

  it("no target at all, or an unknown option, is a usage error with the usage", async () => {
    for (const args of [
      ["inspect"],
      ["release", "x"],
      ["inspect", "--redis", "redis://127.0.0.1:1", "--bogus"],
      ["release", "--redis", "redis://127.0.0.1:1"],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(`usage: pulselock ${args[0]}`);
    }
  });
});

describe("against Upstash", () => {
  const stack = useUpstashStack();

  it.each(["inspect", "release"])("%s with a wrong token says the token was refused, without printing it", async (command) => {
    const args = command === "release" ? ["release", "some-lock"] : ["inspect"];
    const r = await runCli([...args, "--upstash-url", stack.rest.url, "--upstash-token", TOKEN_WRONG]);
    expectCleanFailure(r);
    expect(r.stderr).toContain("refused the token (HTTP 401)");
  });

  it("takes the URL and token from UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, and never prints the token", async () => {
    const r = await runCli(["inspect"], { UPSTASH_REDIS_REST_URL: stack.rest.url, UPSTASH_REDIS_REST_TOKEN: stack.rest.token });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("0 locks held");
    expect(r.stdout).not.toContain(stack.rest.token);
  });

  it("an Upstash URL where nothing listens", async () => {
    const port = await freePort();
    const r = await runCli(["inspect", "--upstash-url", `http://127.0.0.1:${port}`, "--upstash-token", TOKEN_WRONG]);
    expectCleanFailure(r);
    expect(r.stderr).toContain("cannot reach Upstash");
    expect(r.stderr).toContain("ECONNREFUSED");
  });
});

describe("what the operations tools meet on a working Redis", () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.close();
  });

  it("a tenant user whose ACL leaves out @dangerous (SECURITY.md) can inspect and release: no INFO is needed", async () => {
    const user = `tenant${Math.random().toString(36).slice(2, 8)}`;
    await admin.call("ACL", "SETUSER", user, "on", `>${PASSWORD}`, "~*", "&*", "+@all", "-@dangerous");
    try {
      const url = `redis://${user}:${PASSWORD}@127.0.0.1:${server.port}`;
      const inspected = await runCli(["inspect", "--redis", url]);
      expect(inspected.code, inspected.stderr).toBe(0);
      expect(inspected.stderr).toBe("");
      const released = await runCli(["release", "nothing-held", "--redis", url]);
      expect(released.code).toBe(1);
      expect(released.stderr).toMatch(/no lock "nothing-held" is held/);
    } finally {
      await admin.call("ACL", "DELUSER", user);
    }
  });

  it("release refuses a lock whose owner's liveness key holds another type: whether it lives is unknown", async () => {
    const processHash = "ab".repeat(16);
    const key = `wt-${Math.random().toString(36).slice(2, 8)}`;
    await admin.set(`pl:{${key}}`, `pl1|5|1|1|${processHash}|1|`, "PX", 60_000);
    await admin.hset(`pl:proc:${processHash}`, "f", "v");
    const r = await runCli(["release", key, "--redis", server.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds a value pulselock did not write .*WRONGTYPE.*left untouched/);
    expect(await admin.exists(`pl:{${key}}`)).toBe(1);
    await admin.del(`pl:{${key}}`, `pl:proc:${processHash}`);
  });

  it("inspect into a reader that stops early (| head) ends quietly", async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `many-${i}`);
    const pipeline = admin.pipeline();
    for (const k of keys) pipeline.set(`pl:{${k}}`, `pl1|5|1|1|${"cd".repeat(16)}|1|`, "PX", 60_000);
    await pipeline.exec();
    try {
      // `pulselock inspect | head -1`: the reader closes the pipe after the first line.
      const child = spawn(process.execPath, [CLI, "inspect", "--redis", server.url], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(code).toBe(0);
    } finally {
      await admin.del(...keys.map((k) => `pl:{${k}}`));
    }
  });
});
