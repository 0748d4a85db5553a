/*
 * pulselock/opentelemetry: records pulselock's metrics and a span per
 * acquireAndRun() through @opentelemetry/api, with whatever SDK the
 * application registered. Only the API is imported (no SDK, no node:*), so it
 * runs on Node, Bun, Deno and edge runtimes alike. On Node and Bun the Locker
 * does this by itself when the API is installed (adapters/node/index.ts);
 * elsewhere, or with providers of your own, pass `instrumentation: openTelemetry()`.
 */
import * as api from "@opentelemetry/api";
import { createOpenTelemetry, type Instrumentation, type OpenTelemetryOptions } from "./instrumentation";

export { METRICS, SPAN_NAME, ATTRIBUTES } from "./instrumentation";
export type { AcquireOutcome, Instrumentation, LostReason, OpenTelemetryOptions, RunOutcome, RunSpan } from "./instrumentation";

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
  return createOpenTelemetry(api, options);
}
