import { describe, expect, it, vi } from "vitest";
import { Batcher } from "../../src/batcher";

/** A send whose batches the test settles by hand, recording what each carried. */
function manualSend() {
  const batches: { entries: string[]; settle: (results: string[]) => void }[] = [];
  const send = (entries: string[]) => new Promise<string[]>((settle) => batches.push({ entries, settle }));
  return { batches, send };
}

const nextTask = () => new Promise((r) => setTimeout(r, 0));

describe("Batcher in request scope (Cloudflare Workers: one request's calls per batch)", () => {
  it("calls made in one task leave together; a call from a later task (another request's) never joins them", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 2, "request");
    const first = ["a", "b"].map((e) => b.call(e));
    await nextTask();
    const second = b.call("c");
    await nextTask();
    expect(batches.map((x) => x.entries)).toEqual([["a", "b"], ["c"]]);
    batches[1]!.settle(["C"]);
    batches[0]!.settle(["A", "B"]);
    expect(await Promise.all([...first, second])).toEqual(["A", "B", "C"]);
  });

  it("no call waits behind another request's batch in flight, whatever maxInFlight says", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 1, "request");
    void b.call("a");
    await nextTask();
    void b.call("b");
    await nextTask();
    expect(batches.map((x) => x.entries)).toEqual([["a"], ["b"]]);
  });
});

describe("Batcher in turn scope where setImmediate throws when called (Next.js's edge sandbox)", () => {
  it("falls back to a timer: calls still leave and settle", async () => {
    const original = globalThis.setImmediate;
    globalThis.setImmediate = (() => {
      throw new Error("A Node.js API is used (setImmediate) which is not supported in the Edge Runtime.");
    }) as unknown as typeof setImmediate;
    try {
      vi.resetModules(); // the batcher picks its scheduler on first use, from a fresh module
      const { Batcher: Fresh } = await import("../../src/batcher");
      const { batches, send } = manualSend();
      const b = new Fresh<string, string>(send, () => true, 100, 2);
      const call = b.call("a");
      await new Promise((r) => setTimeout(r, 5));
      expect(batches.map((x) => x.entries)).toEqual([["a"]]);
      const whileOut = b.call("b"); // a batch is out: this one waits for the end of the turn, by the timer
      await new Promise((r) => setTimeout(r, 5));
      expect(batches.map((x) => x.entries)).toEqual([["a"], ["b"]]);
      batches[0]!.settle(["A"]);
      batches[1]!.settle(["B"]);
      expect(await call).toBe("A");
      expect(await whileOut).toBe("B");
    } finally {
      globalThis.setImmediate = original;
    }
  });
});
