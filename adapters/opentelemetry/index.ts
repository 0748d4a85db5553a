/*
 * pulselock/opentelemetry: adapts the core's Instrumentation hook to
 * @opentelemetry/api, so that a Locker given `instrumentation: openTelemetry()`
 * records metrics and a span per acquireAndRun() through whatever SDK the
 * application registered. Only the API is imported (no SDK, no node:*), so it
 * runs on Node, Bun, Deno and edge runtimes alike.
 */
import {
  context,
  metrics,
  trace,
  SpanStatusCode,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type ObservableResult,
  type Span,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import type { LockError } from "../../src/errors";
import type { AcquireOutcome, Instrumentation, RunOutcome, RunSpan } from "../../src/instrumentation";
import type { LockData } from "../../src/lock-data";
import { lostReason, type LostReason } from "./lost-reason";
import { METRICS, SPAN_NAME, ATTRIBUTES } from "./names";

export { METRICS, SPAN_NAME, ATTRIBUTES };
export type { AcquireOutcome, Instrumentation, LostReason, RunOutcome, RunSpan };

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

class OpenTelemetryInstrumentation implements Instrumentation {
  /** Made on first use, not when openTelemetry() is called: an application often builds its Locker before it starts the SDK. */
  #instruments: Instruments | undefined;
  #tracer: Tracer | undefined;
  readonly #heldSources = new Set<() => number>();

  constructor(private readonly o: OpenTelemetryOptions) {}

  attach(heldLocks: () => number): () => void {
    this.#heldSources.add(heldLocks);
    return () => void this.#heldSources.delete(heldLocks);
  }

  acquired(outcome: AcquireOutcome, durationMs: number): void {
    const i = this.#use();
    i.acquireDuration.record(durationMs / 1000, ACQUIRE[outcome]);
    i.acquisitions.add(1, ACQUIRE[outcome]);
  }

  tookOver(): void {
    this.#use().takeovers.add(1);
  }

  lost(error: LockError): void {
    this.#use().lost.add(1, LOST[lostReason(error)]);
  }

  livenessWritten(durationMs: number, ok: boolean): void {
    const i = this.#use();
    i.writeDuration.record(durationMs / 1000, ok ? WRITE.ok : WRITE.failed);
    if (!ok) i.writeFailures.add(1);
  }

  startRun(key: string, traceName: string | undefined): RunSpan {
    // The global provider is a proxy that follows a later registration, so the tracer can be kept.
    this.#tracer ??= (this.o.tracerProvider ?? trace.getTracerProvider()).getTracer("pulselock");
    const span = this.#tracer.startSpan(SPAN_NAME);
    // Nothing records it (no SDK, or not sampled): no attributes to build, and the job's spans find the caller's context as it is.
    if (!span.isRecording()) return NOT_RECORDED;
    span.setAttribute(ATTRIBUTES.key, key);
    if (traceName !== undefined) span.setAttribute(ATTRIBUTES.trace, traceName);
    return new OpenTelemetryRunSpan(span);
  }

  #use(): Instruments {
    return (this.#instruments ??= this.#create());
  }

  #create(): Instruments {
    const meter = (this.o.meterProvider ?? metrics.getMeterProvider()).getMeter("pulselock");
    const seconds = { unit: "s", advice: { explicitBucketBoundaries: SECONDS_BUCKETS } };
    const held = meter.createObservableUpDownCounter(METRICS.held, { unit: "{lock}", description: "Locks held by this process's Lockers" });
    held.addCallback((result: ObservableResult) => {
      let n = 0;
      for (const source of this.#heldSources) n += source();
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
  constructor(private readonly span: Span) {}

  within<T>(fn: () => T): T {
    return context.with(trace.setSpan(context.active(), this.span), fn);
  }

  acquired(lockData: LockData): void {
    // A token is Redis TIME in µs (below 2^53): exact as a number attribute.
    this.span.setAttribute(ATTRIBUTES.fencingToken, lockData.fencingToken);
    this.span.setAttribute(ATTRIBUTES.ownerHash, lockData.ownerHash);
  }

  end(outcome: RunOutcome, error?: unknown): void {
    this.span.setAttribute(ATTRIBUTES.runOutcome, outcome);
    if (error !== undefined) {
      this.span.recordException(error instanceof Error ? error : String(error));
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    this.span.end();
  }
}

/** The span of a run that nothing records: no context to enter, no attribute to set. */
const NOT_RECORDED: RunSpan = { within: (fn) => fn(), acquired: () => {}, end: () => {} };

/**
 * The Instrumentation that records pulselock's metrics and spans with
 * OpenTelemetry: pass it as the Locker's `instrumentation` option. One
 * instance can serve every Locker of the process.
 *
 * ```ts
 * import { openTelemetry } from "pulselock/opentelemetry";
 * const locker = new Locker({ database, instrumentation: openTelemetry() });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  if (typeof options !== "object" || options === null) throw new TypeError("pulselock: openTelemetry() takes an options object");
  return new OpenTelemetryInstrumentation(options);
}
