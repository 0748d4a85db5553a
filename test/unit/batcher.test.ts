import { describe, expect, it } from "vitest";
import { Batcher } from "../../src/batcher";

/** A send whose batches the test settles by hand, recording what each carried. */
function manualSend() {
  const batches: { entries: string[]; settle: (results: (string | Error)[]) => void; fail: (e: unknown) => void }[] = [];
  const send = (entries: string[]) =>
    new Promise<(string | Error)[]>((settle, fail) => batches.push({ entries, settle, fail }));
  return { batches, send };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("Batcher", () => {
  it("sends a lone call at once, and the calls made while the limit of batches is out together", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 1);
    const first = b.call("a");
    await flush();
    expect(batches.map((x) => x.entries)).toEqual([["a"]]);
    const later = ["b", "c", "d"].map((e) => b.call(e));
    await flush();
    expect(batches).toHaveLength(1);
    batches[0]!.settle(["A"]);
    expect(await first).toBe("A");
    await flush();
    expect(batches[1]!.entries).toEqual(["b", "c", "d"]);
    batches[1]!.settle(["B", "C", "D"]);
    expect(await Promise.all(later)).toEqual(["B", "C", "D"]);
  });

  it("keeps batches within maxSize and in-flight batches within maxInFlight", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 2, 2);
    const calls = ["a", "b", "c", "d", "e", "f"].map((e) => b.call(e));
    await flush();
    expect(batches.map((x) => x.entries)).toEqual([["a"], ["b"]]);
    batches[0]!.settle(["A"]);
    await flush();
    expect(batches[2]!.entries).toEqual(["c", "d"]);
    for (const x of batches.slice(1)) x.settle(x.entries.map((e) => e.toUpperCase()));
    await flush();
    for (const x of batches.slice(3)) x.settle(x.entries.map((e) => e.toUpperCase()));
    expect(await Promise.all(calls)).toEqual(["A", "B", "C", "D", "E", "F"]);
    expect(Math.max(...batches.map((x) => x.entries.length))).toBeLessThanOrEqual(2);
  });

  it("puts only entries that may share a batch together, in order, and leaves the rest for the next", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, (first, e) => first[0] === e[0], 100, 1);
    const calls = ["x0", "y1", "x2", "y3", "x4"].map((e) => b.call(e));
    await flush();
    batches[0]!.settle(["X0"]);
    await flush();
    expect(batches[1]!.entries).toEqual(["y1", "y3"]);
    batches[1]!.settle(["Y1", "Y3"]);
    await flush();
    expect(batches[2]!.entries).toEqual(["x2", "x4"]);
    batches[2]!.settle(["X2", "X4"]);
    expect(await Promise.all(calls)).toEqual(["X0", "Y1", "X2", "Y3", "X4"]);
  });

  it("an Error result rejects only its own call; a failed send rejects its whole batch and the next batch still goes", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 1);
    const first = b.call("a");
    const rest = ["b", "c"].map((e) => b.call(e));
    await flush();
    batches[0]!.fail(new Error("connection lost"));
    await expect(first).rejects.toThrow("connection lost");
    await flush();
    const boom = new Error("WRONGTYPE");
    batches[1]!.settle(["B", boom]);
    expect(await rest[0]).toBe("B");
    await expect(rest[1]).rejects.toBe(boom);
    const after = b.call("d");
    await flush();
    batches[2]!.settle(["D"]);
    expect(await after).toBe("D");
  });

  it("a send that throws synchronously fails its batch, not the caller that happened to start it", async () => {
    const b = new Batcher<string, string>(
      () => {
        throw new Error("sync");
      },
      () => true,
      100,
      1,
    );
    await expect(b.call("a")).rejects.toThrow("sync");
    await expect(b.call("b")).rejects.toThrow("sync");
  });
});
