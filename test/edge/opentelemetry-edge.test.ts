import { EdgeVM } from "@edge-runtime/vm";
import { expect, it } from "vitest";
import { useUpstashStack } from "../support/upstash-stack";
import { bundleForEdge } from "./bundle-for-edge";

/**
 * pulselock/opentelemetry where there is no Node: the built adapter and the OpenTelemetry SDK bundled for an
 * edge target, inside Vercel's edge runtime, over Upstash. Liveness writes run in the isolate itself there.
 */
const stack = useUpstashStack();

it("records acquisitions, liveness writes and the run's span inside the edge runtime", async () => {
  const vm = new EdgeVM();
  vm.evaluate(await bundleForEdge('import { runWithTelemetry } from "./test/edge/fixtures/edge-otel.ts"; globalThis.runWithTelemetry = runWithTelemetry;'));
  const args = { url: stack.rest.url, token: stack.rest.token, key: `otel-edge-${crypto.randomUUID()}`, prefix: `edge-otel-${crypto.randomUUID()}:` };
  const result = await vm.evaluate(`runWithTelemetry(${JSON.stringify(args)})`);
  expect(result.process).toBe("undefined");
  expect(result.metrics["pulselock.lock.acquisitions"]).toEqual([{ attributes: { "pulselock.acquire.outcome": "acquired" }, value: 1 }]);
  const writes = result.metrics["pulselock.liveness.write.duration"] as { attributes: Record<string, string>; value: { count: number } }[];
  expect(writes.find((w) => w.attributes["pulselock.liveness.write.outcome"] === "ok")!.value.count).toBeGreaterThanOrEqual(2);
  expect(result.span).toMatchObject({
    name: "pulselock acquireAndRun",
    attributes: { "pulselock.run.outcome": "success", "pulselock.lock.fencing_token": result.token, "pulselock.lock.key": args.key },
  });
});
