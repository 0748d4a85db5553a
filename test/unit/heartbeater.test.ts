import { afterEach, describe, expect, it, vi } from "vitest";
import { Heartbeater } from "../../src/heartbeater";

describe("Heartbeater.setDraining", () => {
  const unlisten: Array<() => void> = [];
  afterEach(() => {
    while (unlisten.length) unlisten.pop()!();
    Heartbeater.setDraining(null);
  });

  it("is not draining by default", () => {
    expect(Heartbeater.drainingReason).toBeNull();
  });

  it("rejects non-string reasons with a TypeError and keeps the state", () => {
    for (const v of [undefined, 1, true, {}, new String("x"), Symbol("r"), () => "r"]) {
      expect(() => Heartbeater.setDraining(v as unknown as string)).toThrow(TypeError);
      expect(Heartbeater.drainingReason).toBeNull();
    }
    Heartbeater.setDraining("first");
    expect(() => Heartbeater.setDraining(42 as unknown as string)).toThrow(TypeError);
    expect(Heartbeater.drainingReason).toBe("first");
  });

  it("records the reason, and null resets it", () => {
    Heartbeater.setDraining("SIGTERM");
    expect(Heartbeater.drainingReason).toBe("SIGTERM");
    Heartbeater.setDraining("deploy");
    expect(Heartbeater.drainingReason).toBe("deploy");
    Heartbeater.setDraining(null);
    expect(Heartbeater.drainingReason).toBeNull();
  });

  it("tells every listener drain(reason)", () => {
    const a = { drain: vi.fn() };
    const b = { drain: vi.fn() };
    unlisten.push(Heartbeater.listen(a), Heartbeater.listen(b));
    Heartbeater.setDraining("SIGTERM");
    expect(a.drain).toHaveBeenCalledExactlyOnceWith("SIGTERM");
    expect(b.drain).toHaveBeenCalledExactlyOnceWith("SIGTERM");
  });

  it("does not call listeners for null, nor after they stopped listening", () => {
    const a = { drain: vi.fn() };
    const off = Heartbeater.listen(a);
    Heartbeater.setDraining(null);
    expect(a.drain).not.toHaveBeenCalled();
    off();
    Heartbeater.setDraining("late");
    expect(a.drain).not.toHaveBeenCalled();
  });

  it("does not call listeners on a rejected reason", () => {
    const a = { drain: vi.fn() };
    unlisten.push(Heartbeater.listen(a));
    expect(() => Heartbeater.setDraining(7 as unknown as string)).toThrow(TypeError);
    expect(a.drain).not.toHaveBeenCalled();
  });

  it("lets a listener stop listening from inside drain() without skipping the others", () => {
    const calls: string[] = [];
    let offA = () => {};
    const a = {
      drain: (r: string) => {
        calls.push(`a:${r}`);
        offA();
      },
    };
    const b = { drain: (r: string) => calls.push(`b:${r}`) };
    offA = Heartbeater.listen(a);
    unlisten.push(Heartbeater.listen(b));
    Heartbeater.setDraining("one");
    Heartbeater.setDraining("two");
    expect(calls).toEqual(["a:one", "b:one", "b:two"]);
  });
});
