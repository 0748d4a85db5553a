import { describe, expect, it, vi } from "vitest";
import { Events } from "../../src/events";

describe("Events", () => {
  it("delivers events to subscribers in subscription order", () => {
    const events = new Events<number>();
    const seen: string[] = [];
    events.subscribe((n) => seen.push(`a${n}`));
    events.subscribe((n) => seen.push(`b${n}`));
    events.emit(1);
    events.emit(2);
    expect(seen).toEqual(["a1", "b1", "a2", "b2"]);
  });

  it("subscribe returns a function that unsubscribes (idempotently)", () => {
    const events = new Events<string>();
    const a = vi.fn();
    const b = vi.fn();
    const offA = events.subscribe(a);
    events.subscribe(b);
    expect(typeof offA).toBe("function");
    expect(events.size).toBe(2);
    offA();
    offA();
    expect(events.size).toBe(1);
    events.emit("x");
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledWith("x");
  });

  it("a throwing listener does not stop the others and does not escape", () => {
    const events = new Events<string>();
    const before = vi.fn();
    const after = vi.fn();
    events.subscribe(before);
    events.subscribe(() => {
      throw new Error("listener bug");
    });
    events.subscribe(after);
    expect(() => events.emit("e")).not.toThrow();
    expect(before).toHaveBeenCalledWith("e");
    expect(after).toHaveBeenCalledWith("e");
  });

  it("throws a TypeError when subscribing a non-function", () => {
    const events = new Events<string>();
    for (const v of [undefined, null, 1, "fn", {}, { handleEvent() {} }]) {
      expect(() => events.subscribe(v as unknown as (e: string) => void)).toThrow(TypeError);
    }
    expect(events.size).toBe(0);
  });

  it("the same function subscribed twice is two independent subscriptions", () => {
    const events = new Events<number>();
    const fn = vi.fn();
    const off1 = events.subscribe(fn);
    const off2 = events.subscribe(fn);
    expect(events.size).toBe(2);
    events.emit(1);
    expect(fn).toHaveBeenCalledTimes(2);
    off1();
    events.emit(2);
    expect(fn).toHaveBeenCalledTimes(3);
    off2();
    events.emit(3);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it("a listener unsubscribing another during emit does not break the current delivery", () => {
    const events = new Events<number>();
    const second = vi.fn();
    let offSecond: () => void = () => {};
    events.subscribe(() => offSecond());
    offSecond = events.subscribe(second);
    events.emit(1); // snapshot: second still receives this one
    events.emit(2);
    expect(second.mock.calls).toEqual([[1]]);
  });

  it("a listener subscribed during emit gets only later events", () => {
    const events = new Events<number>();
    const late = vi.fn();
    let added = false;
    events.subscribe(() => {
      if (!added) {
        added = true;
        events.subscribe(late);
      }
    });
    events.emit(1);
    events.emit(2);
    expect(late.mock.calls).toEqual([[2]]);
  });
});
