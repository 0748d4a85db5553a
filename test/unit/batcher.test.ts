import { describe, expect, it } from "vitest";
import { Batcher } from "../../src/batcher";

/** A send whose batches the test settles by hand, recording what each carried. */
function manualSend() {
  const batches: { entries: string[]; settle: (results: (string | Error)[]) => void; fail: (e: unknown) => void }[] = [];
  const send = (entries: string[]) => new Promise<(string | Error)[]>((settle, fail) => batches.push({ entries, settle, fail }));
  return { batches, send };
}

/** One turn of the event loop: the batcher's own setImmediate, queued earlier, has run (and its send with it). */
const nextTurn = () => new Promise((r) => setImmediate(r));

describe("Batcher", () => {
  it("the calls of one turn leave together at the end of it; calls made while the limit of batches is out wait for one to come back", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 1);
    const first = ["a", "b"].map((e) => b.call(e));
    expect(batches).toHaveLength(0); // not synchronously: later calls of this task may still join
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([["a", "b"]]);
    const later = ["c", "d", "e"].map((e) => b.call(e));
    await nextTurn();
    expect(batches).toHaveLength(1);
    batches[0]!.settle(["A", "B"]);
    expect(await Promise.all(first)).toEqual(["A", "B"]);
    await nextTurn();
    expect(batches[1]!.entries).toEqual(["c", "d", "e"]);
    batches[1]!.settle(["C", "D", "E"]);
    expect(await Promise.all(later)).toEqual(["C", "D", "E"]);
  });

  it("failAll() rejects the calls out and the calls queued; a reply that lands later settles nothing, and the batch then stops counting as out", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 1, 1);
    const calls = ["a", "b"].map((e) => b.call(e).catch((error: unknown) => error));
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([["a"]]); // "b" waits: one batch may be out
    const stop = new Error("terminated");
    b.failAll(stop);
    expect(await Promise.all(calls)).toEqual([stop, stop]);
    batches[0]!.settle(["A"]);
    const after = b.call("c");
    await nextTurn();
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([["a"], ["c"]]);
    batches[1]!.settle(["C"]);
    expect(await after).toBe("C");
  });

  it("keeps batches within maxSize and in-flight batches within maxInFlight", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 2, 2);
    const calls = ["a", "b", "c", "d", "e", "f"].map((e) => b.call(e));
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    batches[0]!.settle(["A", "B"]);
    await nextTurn();
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([
      ["a", "b"],
      ["c", "d"],
      ["e", "f"],
    ]);
    batches[1]!.settle(["C", "D"]);
    batches[2]!.settle(["E", "F"]);
    expect(await Promise.all(calls)).toEqual(["A", "B", "C", "D", "E", "F"]);
  });

  it("counts entries by sizeOf against maxSize (a multi-key set by its keys): a batch stops before the entry that would pass it, and an entry larger than maxSize still goes, alone", async () => {
    const { batches, send } = manualSend();
    // The size of "k5" is 5: a set of 5 keys.
    const b = new Batcher<string, string>(
      send,
      () => true,
      6,
      4,
      "turn",
      (e) => Number(e.slice(1)),
    );
    const calls = ["k3", "k2", "k2", "k9", "k1"].map((e) => b.call(e));
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([["k3", "k2"], ["k2"], ["k9"], ["k1"]]);
    batches.forEach((x) => x.settle(x.entries.map((e) => e.toUpperCase())));
    expect(await Promise.all(calls)).toEqual(["K3", "K2", "K2", "K9", "K1"]);
  });

  it("splits many calls due at once into two batches while two may be out (Redis runs one while the client writes or resumes the other), but not a few calls, nor when one batch may be out, nor per request", async () => {
    const sizes = async (count: number, maxInFlight: number, scope: "turn" | "request" = "turn") => {
      const { batches, send } = manualSend();
      const b = new Batcher<string, string>(send, () => true, 100, maxInFlight, scope);
      const calls = Array.from({ length: count }, (_, i) => b.call(`c${i}`));
      await nextTurn();
      const out = batches.map((x) => x.entries.length);
      // Settle every batch, also those that leave once one is back, until every call has its answer.
      let finished = false;
      void Promise.all(calls).then(() => (finished = true));
      for (let settled = 0; !finished; await nextTurn()) {
        while (settled < batches.length) batches[settled]!.settle(batches[settled++]!.entries);
      }
      return out;
    };
    expect(await sizes(64, 2)).toEqual([32, 32]);
    expect(await sizes(15, 2)).toEqual([15]);
    expect(await sizes(64, 1)).toEqual([64]);
    expect(await sizes(64, 2, "request")).toEqual([64]);
    expect(await sizes(250, 2)).toEqual([100, 100]); // then 50 once one is back
  });

  it("puts only entries that may share a batch together, in order, and leaves the rest for the next", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, (first, e) => first[0] === e[0], 100, 1);
    const calls = ["x0", "y1", "x2", "y3", "x4"].map((e) => b.call(e));
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([["x0", "x2", "x4"]]);
    batches[0]!.settle(["X0", "X2", "X4"]);
    await nextTurn();
    await nextTurn();
    expect(batches[1]!.entries).toEqual(["y1", "y3"]);
    batches[1]!.settle(["Y1", "Y3"]);
    expect(await Promise.all(calls)).toEqual(["X0", "Y1", "X2", "Y3", "X4"]);
  });

  it("an Error result rejects only its own call; a failed send rejects its whole batch and the next batch still goes", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 1);
    const first = b.call("a");
    await nextTurn();
    const rest = ["b", "c"].map((e) => b.call(e));
    batches[0]!.fail(new Error("connection lost"));
    await expect(first).rejects.toThrow("connection lost");
    await nextTurn();
    await nextTurn();
    const boom = new Error("WRONGTYPE");
    batches[1]!.settle(["B", boom]);
    expect(await rest[0]).toBe("B");
    await expect(rest[1]).rejects.toBe(boom);
    const after = b.call("d");
    await nextTurn();
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

  it("a lone call leaves within its own task: a task queued before the call (setImmediate, setTimeout 0) finds it sent", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 2);
    const sentBy = (schedule: (fn: () => void) => void) => new Promise<string[][]>((r) => schedule(() => r(batches.map((x) => x.entries))));
    const atImmediate = sentBy(setImmediate);
    const atTimer = sentBy((fn) => setTimeout(fn, 0));
    const call = b.call("a");
    expect(await atImmediate).toEqual([["a"]]);
    expect(await atTimer).toEqual([["a"]]);
    batches[0]!.settle(["A"]);
    expect(await call).toBe("A");
  });

  it("the callers that one reply resumes together leave as one batch, also when one of them awaits once more on the way", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 2);
    const loops = ["a", "b", "c"].map(async (e, i) => {
      await b.call(e);
      if (i === 2) await Promise.resolve();
      return b.call(`${e}2`);
    });
    await nextTurn();
    batches[0]!.settle(["A", "B", "C"]);
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([
      ["a", "b", "c"],
      ["a2", "b2", "c2"],
    ]);
    batches[1]!.settle(["A2", "B2", "C2"]);
    expect(await Promise.all(loops)).toEqual(["A2", "B2", "C2"]);
  });

  it("while a batch is out, the calls made later in its turn gather and leave together at the end of the turn", async () => {
    const { batches, send } = manualSend();
    const b = new Batcher<string, string>(send, () => true, 100, 2);
    void b.call("a");
    const later = (e: string, awaits: number) =>
      (async () => {
        for (let i = 0; i < awaits; i++) await Promise.resolve();
        return b.call(e);
      })();
    void later("b", 4);
    void later("c", 8);
    await nextTurn(); // queued before the calls of b and c, so it runs before the batcher's own setImmediate
    expect(batches.map((x) => x.entries)).toEqual([["a"]]);
    await nextTurn();
    expect(batches.map((x) => x.entries)).toEqual([["a"], ["b", "c"]]);
  });
});
