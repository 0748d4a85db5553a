import { expect, it } from "vitest";
import { EDGE_BUDGET, measureEdgeEntry } from "../../bench/edge-size.mjs";

/**
 * The edge entry (core + Upstash adapter, without @upstash/redis) stays within
 * 26 kB min+gzip (15.6 kB for locks alone then; 25.9 kB with the multi-key lock, the semaphore, the
 * instrumentation hooks, the fixes of 2026-12-07 and a set's release in one batch entry, docs/decisions.md "Edge bundles"; the 12 kB target is still
 * open), measured from dist/ (npm test builds first) exactly as
 * `npm run bench:size` measures it. A guard against regressions, not a
 * platform limit: a Worker's script may be 3 MB (bench/edge-size.mjs says why).
 */
it(`the edge entry is at most ${EDGE_BUDGET} B min+gzip`, async () => {
  expect(EDGE_BUDGET).toBe(26 * 1024);
  const { gzipped } = await measureEdgeEntry();
  expect(gzipped).toBeGreaterThan(0);
  expect(gzipped, "npm run build && node bench/edge-size.mjs --modules lists each source file's share").toBeLessThanOrEqual(EDGE_BUDGET);
});
