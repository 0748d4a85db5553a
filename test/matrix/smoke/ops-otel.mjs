// pulselock/opentelemetry on this runtime, into the SDK's in-memory readers:
// prints one JSON line with the metrics and spans one acquireAndRun() made.
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Redis } from "ioredis";
import { Locker, LockStatus } from "pulselock";
import { METRICS, SPAN_NAME, openTelemetry } from "pulselock/opentelemetry";

class CollectingReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const reader = new CollectingReader();
const spans = new InMemorySpanExporter();
const instrumentation = openTelemetry({
  meterProvider: new MeterProvider({ readers: [reader] }),
  tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
});
const redis = new Redis(process.env.REDIS_URL);
const locker = new Locker({ database: redis, instrumentation });
const res = await locker.acquireAndRun(`matrix-otel-${Math.random()}`, async () => "ran");
await locker.terminate();
await redis.quit();
const { resourceMetrics } = await reader.collect();
const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.filter((m) => m.dataPoints.length > 0).map((m) => m.descriptor.name));
const spanNames = spans.getFinishedSpans().map((s) => s.name);
const ok =
  res.status === LockStatus.SUCCESS && metrics.includes(METRICS.acquisitions) && metrics.includes(METRICS.acquireDuration) && spanNames.includes(SPAN_NAME);
console.log(JSON.stringify({ event: "otel", ok, metrics, spans: spanNames }));
