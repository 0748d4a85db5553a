import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LockStatus, isLockError, type LockData } from "pulselock";
import { ATTRIBUTES, METRICS, SPAN_NAME, openTelemetry } from "pulselock/opentelemetry";
import { useHarness } from "../conformance/harness";
import { ioredisContext } from "../support/ioredis-context";
import { uniqueKey, waitFor } from "../support/wait-for";

/*
 * pulselock/opentelemetry against a real redis-server, read back through the
 * SDK: a MetricReader collected on demand and the InMemorySpanExporter. Each
 * test has its own providers (passed to openTelemetry(), not registered
 * globally), so that counts start at zero.
 */
const h = useHarness(ioredisContext);

class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function telemetry() {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const instrumentation = openTelemetry({ meterProvider, tracerProvider });
  /** The data points of one metric, now. */
  const points = async (name: string): Promise<DataPoint<unknown>[]> => {
    const { resourceMetrics } = await reader.collect();
    for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) if (m.descriptor.name === name) return m.dataPoints;
    return [];
  };
  /** A counter's or up-down counter's value (a histogram's count) over the points whose attributes include `attrs`. */
  const total = async (name: string, attrs: Record<string, string> = {}): Promise<number> =>
    (await points(name))
      .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
      .reduce((n, p) => n + (typeof p.value === "number" ? p.value : (p.value as Histogram).count), 0);
  const unit = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)?.descriptor.unit;
  };
  return { instrumentation, meterProvider, points, total, unit, spans };
}

const livenessKey = (lockData: LockData) => `${h.ctx.prefix}pl:proc:${lockData.processHash}`;

describe("OpenTelemetry metrics", () => {
  it("acquisitions by outcome, their duration in seconds, and the locks held now", async () => {
    const t = telemetry();
    const a = h.locker({ instrumentation: t.instrumentation });
    const b = h.locker({ instrumentation: t.instrumentation });
    const key = uniqueKey("otel-acq");
    const first = await a.acquire(key);
    expect(first.status).toBe(LockStatus.SUCCESS);
    expect((await b.acquire(key)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
    expect(await t.total(METRICS.acquisitions, { [ATTRIBUTES.acquireOutcome]: "acquired" })).toBe(1);
    expect(await t.total(METRICS.acquisitions, { [ATTRIBUTES.acquireOutcome]: "held" })).toBe(1);
    expect(await t.total(METRICS.acquireDuration)).toBe(2);
    expect(await t.unit(METRICS.acquireDuration)).toBe("s");
    const [duration] = (await t.points(METRICS.acquireDuration)).filter((p) => p.attributes[ATTRIBUTES.acquireOutcome] === "acquired");
    // Seconds, not milliseconds: one local round trip (and a thread's first write) is far below 10 s and above 0.
    expect((duration!.value as Histogram).sum).toBeGreaterThan(0);
    expect((duration!.value as Histogram).sum).toBeLessThan(10);
    expect(await t.total(METRICS.held)).toBe(1);
    await a.release(key, first.lockData);
    expect(await t.total(METRICS.held)).toBe(0);
  });

  it("the locks held now add up over Lockers with separate openTelemetry() instances on one meter", async () => {
    // Found by an attack pass: each instance's callback observed its own Lockers only, and the last one won.
    const t = telemetry();
    const a = h.locker({ instrumentation: t.instrumentation });
    const b = h.locker({ instrumentation: openTelemetry({ meterProvider: t.meterProvider }) });
    const taken = [{ locker: a, key: uniqueKey("otel-sum-a") }, ...[1, 2, 3].map((i) => ({ locker: b, key: uniqueKey(`otel-sum-b${i}`) }))];
    const held = await Promise.all(taken.map(({ locker, key }) => locker.acquire(key)));
    expect(held.map((r) => r.status)).toEqual(Array(4).fill(LockStatus.SUCCESS));
    expect(await t.total(METRICS.held)).toBe(4);
    for (const [i, { locker, key }] of taken.entries()) {
      const res = held[i]!;
      if (res.status === LockStatus.SUCCESS) await locker.release(key, res.lockData);
    }
    expect(await t.total(METRICS.held)).toBe(0);
  });

  it("an acquisition that Redis refuses counts as an error", async () => {
    const t = telemetry();
    const locker = h.locker({ instrumentation: t.instrumentation });
    const key = uniqueKey("otel-wrongtype");
    await h.ctx.admin("HSET", `${h.ctx.prefix}pl:{${key}}`, "f", "v");
    await expect(locker.acquire(key)).rejects.toThrow(/WRONGTYPE/);
    expect(await t.total(METRICS.acquisitions, { [ATTRIBUTES.acquireOutcome]: "error" })).toBe(1);
  });

  it("a takeover of a dead holder, and the lock the holder loses, by reason", async () => {
    const t = telemetry();
    // The holder rewrites its record only every 2 s, so it notices the lapse (and releases) well after the takeover.
    const holder = h.locker({ instrumentation: t.instrumentation, reportWriteMs: 2000, reportTtlMs: 10_000 });
    const taker = h.locker({ instrumentation: t.instrumentation });
    await taker.acquireAndRun(uniqueKey("otel-warm"), () => {}); // its liveness thread is up before the race starts
    const key = uniqueKey("otel-takeover");
    let held!: (lockData: LockData) => void;
    const acquired = new Promise<LockData>((r) => (held = r));
    const run = holder.acquireAndRun(key, async (hb) => {
      held(hb.lockData);
      await new Promise((resolve) => hb.signal.addEventListener("abort", resolve));
    });
    const lockData = await acquired;
    run.catch(() => {}); // awaited below
    // The holder's process looks dead: its liveness record is gone (its rewrites use XX, so it stays gone).
    await h.ctx.admin("DEL", livenessKey(lockData));
    const took = await taker.acquire(key);
    expect(took.status).toBe(LockStatus.SUCCESS);
    expect(await t.total(METRICS.takeovers)).toBe(1);
    await expect(run).rejects.toSatisfy(isLockError);
    expect(await t.total(METRICS.lost, { [ATTRIBUTES.lostReason]: "liveness_lapsed" })).toBe(1);
  });

  it("a lock deleted under a running job counts as lost: expired_or_deleted", async () => {
    const t = telemetry();
    const locker = h.locker({ instrumentation: t.instrumentation });
    const key = uniqueKey("otel-deleted");
    const run = locker.acquireAndRun(key, async (hb) => {
      await h.ctx.admin("DEL", `${h.ctx.prefix}pl:{${key}}`);
      for (;;) await hb.delay(50); // the next recheck finds the record gone
    });
    await expect(run).rejects.toSatisfy(isLockError);
    expect(await t.total(METRICS.lost, { [ATTRIBUTES.lostReason]: "expired_or_deleted" })).toBe(1);
  });

  it("liveness writes: their duration from the liveness thread, reported on the main thread, and their failures", async () => {
    const t = telemetry();
    const locker = h.locker({ instrumentation: t.instrumentation });
    const key = uniqueKey("otel-liveness");
    const lock = await locker.acquire(key);
    expect(lock.status).toBe(LockStatus.SUCCESS);
    await waitFor("three successful liveness writes", async () => (await t.total(METRICS.livenessWriteDuration, { [ATTRIBUTES.writeOutcome]: "ok" })) >= 3);
    expect(await t.unit(METRICS.livenessWriteDuration)).toBe("s");
    // Redis refuses writes once it is over its memory limit (OOM): the rewrites fail, and each failure is counted.
    await h.ctx.admin("CONFIG", "SET", "maxmemory", "1");
    try {
      await waitFor("a failed liveness write", async () => (await t.total(METRICS.livenessWriteFailures)) >= 1);
    } finally {
      await h.ctx.admin("CONFIG", "SET", "maxmemory", "0");
    }
    expect(await t.total(METRICS.livenessWriteDuration, { [ATTRIBUTES.writeOutcome]: "failed" })).toBeGreaterThanOrEqual(1);
  });
});

describe("OpenTelemetry spans", () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => void context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => void context.disable());

  it("one span per acquireAndRun, with key, outcome and fencing token; the job runs inside it", async () => {
    const t = telemetry();
    const locker = h.locker({ instrumentation: t.instrumentation });
    const key = uniqueKey("otel-span");
    let token = 0;
    const res = await locker.acquireAndRun(
      key,
      (hb) => {
        token = hb.lockData.fencingToken;
      },
      "nightly-report",
    );
    expect(res.status).toBe(LockStatus.SUCCESS);
    const spans = t.spans.getFinishedSpans();
    const run = spans.find((s) => s.name === SPAN_NAME)!;
    expect(run.attributes).toMatchObject({
      [ATTRIBUTES.key]: key,
      [ATTRIBUTES.runOutcome]: "success",
      [ATTRIBUTES.fencingToken]: token,
      [ATTRIBUTES.trace]: "nightly-report",
    });
    expect(token).toBeGreaterThan(0);
    expect(run.status.code).toBe(0); // UNSET: nothing went wrong
    expect(spans.filter((s) => s.name === SPAN_NAME)).toHaveLength(1);
  });

  it("a span whose job could not run (held) and one whose job threw (error, with the exception)", async () => {
    const t = telemetry();
    const a = h.locker({ instrumentation: t.instrumentation });
    const b = h.locker({ instrumentation: t.instrumentation });
    const key = uniqueKey("otel-span-outcomes");
    const lock = await a.acquire(key);
    expect((await b.acquireAndRun(key, () => {})).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
    await a.release(key, lock.lockData);
    await expect(
      b.acquireAndRun(key, () => {
        throw new Error("the job failed");
      }),
    ).rejects.toThrow("the job failed");
    const [held, failed] = t.spans.getFinishedSpans().filter((s) => s.name === SPAN_NAME);
    expect(held!.attributes[ATTRIBUTES.runOutcome]).toBe("held");
    expect(held!.attributes[ATTRIBUTES.fencingToken]).toBeUndefined();
    expect(failed!.attributes[ATTRIBUTES.runOutcome]).toBe("error");
    expect(failed!.status).toMatchObject({ code: 2, message: "the job failed" });
    expect(failed!.events.map((e) => e.name)).toContain("exception");
  });

  it("with the bare API (no SDK registered) a run runs as without instrumentation, and its job sees the caller's context", async () => {
    const locker = h.locker({ instrumentation: openTelemetry() });
    const caller = new BasicTracerProvider().getTracer("caller").startSpan("caller");
    const res = await context.with(trace.setSpan(context.active(), caller), () =>
      locker.acquireAndRun(uniqueKey("otel-bare"), () => trace.getSpan(context.active())?.spanContext().spanId),
    );
    caller.end();
    expect(res).toEqual({ status: LockStatus.SUCCESS, result: caller.spanContext().spanId });
  });

  it("spans made inside the job are children of the run's span", async () => {
    const t = telemetry();
    const locker = h.locker({ instrumentation: t.instrumentation });
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(t.spans)] }).getTracer("job");
    await locker.acquireAndRun(uniqueKey("otel-child"), async () => {
      await new Promise((r) => setTimeout(r, 1));
      tracer.startSpan("inside the job").end();
    });
    const spans = t.spans.getFinishedSpans();
    const run = spans.find((s) => s.name === SPAN_NAME)!;
    const child = spans.find((s) => s.name === "inside the job")!;
    expect(child.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(child.spanContext().traceId).toBe(run.spanContext().traceId);
  });
});

describe("OpenTelemetry that throws", () => {
  it("a meter and a tracer that throw on every call fail no acquire, run or release: telemetry is best effort", async () => {
    const boom = () => {
      throw new Error("broken SDK");
    };
    const instrumentation = openTelemetry({
      meterProvider: { getMeter: boom } as unknown as MeterProvider,
      tracerProvider: { getTracer: boom } as unknown as BasicTracerProvider,
    });
    const locker = h.locker({ instrumentation });
    const key = uniqueKey("otel-broken");
    expect(await locker.acquireAndRun(key, async () => "ran")).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
    const res = await locker.acquire(key);
    expect(res.status).toBe(LockStatus.SUCCESS);
    if (res.status !== LockStatus.SUCCESS) return;
    expect((await locker.release(key, res.lockData)).status).toBe(LockStatus.SUCCESS);
  });
});
