import { describe, expect, it } from "vitest";
import { upstashTransport } from "../../src/upstash-transport";

type Request = { body: unknown[]; path?: string[] };

/** An object of @upstash/redis's shape whose HTTP client records requests and answers from `answer`. */
function fakeUpstash(answer: (req: Request) => unknown) {
  const requests: Request[] = [];
  const client = {
    evalsha: () => Promise.reject(new Error("the SDK's evalsha must not be used")),
    eval: () => Promise.reject(new Error("the SDK's eval must not be used")),
    pipeline: () => ({}),
    client: {
      baseUrl: "http://127.0.0.1:1",
      headers: { authorization: "Bearer t" },
      request: async (req: Request) => (requests.push(req), answer(req)),
    },
  };
  return { requests, transport: upstashTransport(client)! };
}

describe("Upstash transport", () => {
  it("sends a lone script call as one command, and returns the raw result (no JSON parsing of strings)", async () => {
    const { requests, transport } = fakeUpstash(() => ({ result: [1, "123", '{"a":1}'] }));
    expect(await transport.evalsha("abc", ["k1", "k2"], ["x"])).toEqual([1, "123", '{"a":1}']);
    expect(requests).toEqual([{ body: ["evalsha", "abc", 2, "k1", "k2", "x"] }]);
  });

  it("sends the calls of one microtask checkpoint in one /pipeline request, and gives each its own answer or error", async () => {
    const { requests, transport } = fakeUpstash((req) =>
      req.path?.[0] === "pipeline" ? [{ result: "a" }, { error: "NOSCRIPT No matching script" }, { result: null }] : undefined,
    );
    const calls = [transport.evalsha("s1", ["k"], []), transport.evalsha("s2", ["k"], []), transport.eval("return nil", ["k"], [])];
    const settled = await Promise.allSettled(calls);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.path).toEqual(["pipeline"]);
    expect(requests[0]!.body).toEqual([
      ["evalsha", "s1", 1, "k"],
      ["evalsha", "s2", 1, "k"],
      ["eval", "return nil", 1, "k"],
    ]);
    expect(settled[0]).toEqual({ status: "fulfilled", value: "a" });
    expect(settled[1]).toMatchObject({ status: "rejected", reason: { name: "UpstashError", message: "NOSCRIPT No matching script" } });
    expect(settled[2]).toEqual({ status: "fulfilled", value: null });
  });

  it("a pipeline reply of the wrong shape, or a failed request, fails every call of it; the next checkpoint sends anew", async () => {
    let reply: unknown = [{ result: 1 }];
    const { requests, transport } = fakeUpstash(() => {
      if (reply instanceof Error) throw reply;
      return reply;
    });
    const short = await Promise.allSettled([transport.evalsha("a", [], []), transport.evalsha("b", [], [])]);
    expect(short.map((s) => s.status)).toEqual(["rejected", "rejected"]);
    expect((short[0] as PromiseRejectedResult).reason.name).toBe("MalformedReplyError");
    reply = Object.assign(new Error("Unauthorized"), { name: "UpstashError" });
    const failed = await Promise.allSettled([transport.evalsha("a", [], []), transport.evalsha("b", [], [])]);
    expect(failed.map((s) => (s as PromiseRejectedResult).reason?.message)).toEqual(["Unauthorized", "Unauthorized"]);
    reply = { result: "ok" };
    expect(await transport.evalsha("c", [], [])).toBe("ok");
    expect(requests).toHaveLength(3); // one per checkpoint: two pipelines, then a lone call
  });

  it("an error body becomes an UpstashError-named error that carries Redis' message", async () => {
    const { transport } = fakeUpstash(() => ({ error: "WRONGTYPE Operation against a key holding the wrong kind of value" }));
    await expect(transport.evalsha("a", ["k"], [])).rejects.toMatchObject({ name: "UpstashError", message: /^WRONGTYPE/ });
  });

  it("a client whose HTTP client has no request() goes through the SDK's own evalsha and eval", async () => {
    const seen: unknown[][] = [];
    const client = {
      evalsha: async (...a: unknown[]) => (seen.push(["evalsha", ...a]), "via sdk"),
      eval: async (...a: unknown[]) => (seen.push(["eval", ...a]), "via sdk eval"),
      pipeline: () => ({}),
      client: { baseUrl: "http://127.0.0.1:1", headers: {} },
    };
    const transport = upstashTransport(client)!;
    expect(await transport.evalsha("sha", ["k"], ["a"])).toBe("via sdk");
    expect(await transport.eval("src", ["k"], ["a"])).toBe("via sdk eval");
    expect(seen).toEqual([
      ["evalsha", "sha", ["k"], ["a"]],
      ["eval", "src", ["k"], ["a"]],
    ]);
  });
});
