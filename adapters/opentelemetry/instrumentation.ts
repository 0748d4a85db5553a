/*
 * Adapts the core's Instrumentation hook to @opentelemetry/api, given the API
 * module itself: pulselock/opentelemetry passes the one it imports, and the
 * Node entry the one it finds installed (its automatic instrumentation), so
 * that this file imports the API for its types only and loads in a process
 * without it. No SDK and no node:* either: it runs on edge runtimes too.
 */
import type { Attributes, Counter, Histogram, MeterProvider, ObservableResult, Span, Tracer, TracerProvider } from "@opentelemetry/api";
import type { LockError } from "../../src/errors";
import type { AcquireOutcome, Instrumentation, RunOutcome, RunSpan } from "../../src/instrumentation";
import type { LockData } from "../../src/lock-data";
import { lostReason, type LostReason } from "./lost-reason";
import { METRICS, SPAN_NAME, ATTRIBUTES } from "./names";

export { METRICS, SPAN_NAME, ATTRIBUTES };
export type { AcquireOutcome, Instrumentation, LostReason, RunOutcome, RunSpan };

/** What the adapter uses of @opentelemetry/api. */
export type OpenTelemetryApi = Pick<typeof import("@opentelemetry/api"), "context" | "metrics" | "trace" | "SpanStatusCode" | "createNoopMeter">;

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /** Where the metrics go; the global MeterProvider (`metrics.getMeterProvider()`) when left out. */
  meterProvider?: MeterProvider;
  /** Where the spans go; the global TracerProvider when left out. */
  tracerProvider?: TracerProvider;
}

/** Latencies of a lock service: a round trip is ~0.1–1 ms locally, a few ms across a region, up to seconds over a failing network. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Attribute sets made once: recording with a shared object allocates nothing per call. */
const byValue = <K extends string>(name: string, values: readonly K[]): Record<K, Attributes> =>
  Object.fromEntries(values.map((v): [K, Attributes] => [v, Object.freeze({ [name]: v })])) as Record<K, Attributes>;
const ACQUIRE = byValue<AcquireOutcome>(ATTRIBUTES.acquireOutcome, ["acquired", "held", "error"]);
const LOST = byValue<LostReason>(ATTRIBUTES.lostReason, [
  "taken_over",
  "expired_or_deleted",
  "liveness_lapsed",
  "self_fencing_deadline",
  "overwritten",
  "redis_refused",
  "terminated",
]);
const WRITE = { ok: Object.freeze({ [ATTRIBUTES.writeOutcome]: "ok" }), failed: Object.freeze({ [ATTRIBUTES.writeOutcome]: "failed" }) };

interface Instruments {
  acquireDuration: Histogram;
  acquisitions: Counter;
  takeovers: Counter;
  lost: Counter;
  writeDuration: Histogram;
  writeFailures: Counter;
}

/**
 * Every Locker's count of held locks, whichever openTelemetry() instance it has: the gauge is one instrument per
 * meter, and each instance's callback observes the sum of them all, so that Lockers with separate instances (one
 * automatic, one given) add up instead of the last callback's Lockers hiding the others'.
 */
const HELD_SOURCES = new Set<() => number>();

class OpenTelemetryInstrumentation implements Instrumentation {
  /** Made on first use, not when openTelemetry() is called: an application often builds its Locker before it starts the SDK. */
  #instruments: Instruments | undefined;
  #meterProvider: MeterProvider | undefined;
  /** The meter is the API's no-op one (no SDK registered): acquisitions need not even be timed. */
  #noopMeter = false;
  #tracer: Tracer | undefined;

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly o: OpenTelemetryOptions,
  ) {}

  attach(heldLocks: () => number): () => void {
    HELD_SOURCES.add(heldLocks);
    return () => void HELD_SOURCES.delete(heldLocks);
  }

  // Each hook runs inside the lock machinery: a meter or SDK that throws must not fail an acquire or a release, so
  // what it throws is dropped (telemetry is best effort; the lock is not).

  timesAcquisitions(): boolean {
    try {
      this.#use();
      return !this.#noopMeter;
    } catch {
      return false;
    }
  }

  acquired(outcome: AcquireOutcome, durationMs: number): void {
    try {
      const i = this.#use();
      i.acquireDuration.record(durationMs / 1000, ACQUIRE[outcome]);
      i.acquisitions.add(1, ACQUIRE[outcome]);
    } catch {
      // see above
    }
  }

  tookOver(): void {
    try {
      this.#use().takeovers.add(1);
    } catch {
      // see above
    }
  }

  lost(error: LockError): void {
    try {
      this.#use().lost.add(1, LOST[lostReason(error)]);
    } catch {
      // see above
    }
  }

  livenessWritten(durationMs: number, ok: boolean): void {
    try {
      const i = this.#use();
      i.writeDuration.record(durationMs / 1000, ok ? WRITE.ok : WRITE.failed);
      if (!ok) i.writeFailures.add(1);
    } catch {
      // see above
    }
  }

  startRun(key: string, traceName: string | undefined): RunSpan | undefined {
    try {
      return this.#startRun(key, traceName);
    } catch {
      return undefined; // a tracer that throws: the run goes untraced
    }
  }

  #startRun(key: string, traceName: string | undefined): RunSpan | undefined {
    const provider = this.o.tracerProvider ?? this.api.trace.getTracerProvider();
    // No SDK registered (the global provider is a proxy without a delegate): no span at all, not even a non-recording one.
    if (isProxyWithoutDelegate(provider)) return undefined;
    // The global provider is a proxy that follows a later registration, so the tracer can be kept.
    this.#tracer ??= provider.getTracer("pulselock");
    const span = this.#tracer.startSpan(SPAN_NAME);
    // Nothing records it (no SDK, or not sampled): no attributes to build, and the job's spans find the caller's context as it is.
    if (!span.isRecording()) return undefined;
    span.setAttribute(ATTRIBUTES.key, key);
    if (traceName !== undefined) span.setAttribute(ATTRIBUTES.trace, traceName);
    return new OpenTelemetryRunSpan(this.api, span);
  }

  #use(): Instruments {
    // The global MeterProvider is no proxy: instruments made before the SDK registered would stay no-ops, so they
    // are made again when the provider changes (an identity check per report).
    const provider = this.o.meterProvider ?? this.api.metrics.getMeterProvider();
    if (provider !== this.#meterProvider || !this.#instruments) {
      this.#meterProvider = provider;
      this.#instruments = this.#create(provider);
    }
    return this.#instruments;
  }

  #create(provider: MeterProvider): Instruments {
    const meter = provider.getMeter("pulselock");
    this.#noopMeter = meter === this.api.createNoopMeter();
    const seconds = { unit: "s", advice: { explicitBucketBoundaries: SECONDS_BUCKETS } };
    const held = meter.createObservableUpDownCounter(METRICS.held, { unit: "{lock}", description: "Locks held by this process's Lockers" });
    held.addCallback((result: ObservableResult) => {
      let n = 0;
      for (const source of HELD_SOURCES) n += source();
      result.observe(n);
    });
    return {
      acquireDuration: meter.createHistogram(METRICS.acquireDuration, { ...seconds, description: "Duration of one lock acquisition attempt" }),
      acquisitions: meter.createCounter(METRICS.acquisitions, { unit: "{acquisition}", description: "Lock acquisition attempts, by outcome" }),
      takeovers: meter.createCounter(METRICS.takeovers, { unit: "{lock}", description: "Locks taken over from a holder whose process was dead" }),
      lost: meter.createCounter(METRICS.lost, { unit: "{lock}", description: "Locks that a running job lost, by reason" }),
      writeDuration: meter.createHistogram(METRICS.livenessWriteDuration, { ...seconds, description: "Duration of one liveness record write" }),
      writeFailures: meter.createCounter(METRICS.livenessWriteFailures, { unit: "{write}", description: "Liveness record writes that failed" }),
    };
  }
}

class OpenTelemetryRunSpan implements RunSpan {
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly span: Span,
  ) {}

  within<T>(fn: () => T): T {
    const { context, trace } = this.api;
    return context.with(trace.setSpan(context.active(), this.span), fn);
  }

  acquired(lockData: LockData): void {
    try {
      // A token is Redis TIME in µs (below 2^53): exact as a number attribute.
      this.span.setAttribute(ATTRIBUTES.fencingToken, lockData.fencingToken);
      this.span.setAttribute(ATTRIBUTES.ownerHash, lockData.ownerHash);
    } catch {
      // a span that throws must not keep the job from starting
    }
  }

  end(outcome: RunOutcome, error?: unknown): void {
    try {
      this.span.setAttribute(ATTRIBUTES.runOutcome, outcome);
      if (error !== undefined) {
        this.span.recordException(error instanceof Error ? error : String(error));
        this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      this.span.end();
    } catch {
      // nor change what the run answers
    }
  }
}

/**
 * The API's global tracer provider is a ProxyTracerProvider until an SDK registers a delegate. Told by shape, not
 * instanceof: the application's copy of the API (ESM) and the one the Node entry found (CJS) are separate classes,
 * sharing only the global registry.
 */
function isProxyWithoutDelegate(provider: TracerProvider): boolean {
  const proxy = provider as { getDelegateTracer?: (name: string) => Tracer | undefined };
  return typeof proxy.getDelegateTracer === "function" && proxy.getDelegateTracer("pulselock") === undefined;
}

/** The Instrumentation over `api` (see openTelemetry() in pulselock/opentelemetry). */
export function createOpenTelemetry(api: OpenTelemetryApi, options: OpenTelemetryOptions = {}): Instrumentation {
  if (typeof options !== "object" || options === null) throw new TypeError("pulselock: openTelemetry() takes an options object");
  return new OpenTelemetryInstrumentation(api, options);
}
