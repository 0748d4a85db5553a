/**
 * Metrics and a span per acquireAndRun() through `@opentelemetry/api` (an
 * optional peer dependency): pass `openTelemetry()` as a Locker's
 * `instrumentation` option. Imports nothing from Node, so it runs on edge
 * runtimes too.
 *
 * @module pulselock/opentelemetry
 */
export * from "../../adapters/opentelemetry/index";
