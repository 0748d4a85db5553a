import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
