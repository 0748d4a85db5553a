import { afterEach, beforeEach, expect } from "vitest";
import type { UpstashStack } from "./upstash-stack";

/** One HTTP request: when it started, and when it was answered (undefined while it is out). */
export interface Sent {
  started: number;
  answered: number | undefined;
}

/** What a counted job saw of the requests: how many were out and answered when it started, and the totals once all were answered. */
export interface Counted {
  seen: { started: number; answered: number };
  total: number;
  reachedRedis: number;
}

/**
 * Counts HTTP requests twice: by upstash-dev (those that reached Redis) and by a wrapper around the global fetch,
 * which @upstash/redis calls for every request (when each one started and was answered). The wrapper is in place
 * for each test of the file that calls this.
 */
export function useRequestCount(stack: UpstashStack) {
  let sent: Sent[] = [];
  let realFetch: typeof fetch;
  beforeEach(() => {
    sent = [];
    realFetch = globalThis.fetch;
    globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
      const entry: Sent = { started: performance.now(), answered: undefined };
      sent.push(entry);
      try {
        return await realFetch(...args);
      } finally {
        entry.answered = performance.now();
      }
    };
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });
  const reachedRedis = () => Object.values(stack.rest.stats().requests).reduce((sum, n) => sum + n, 0);

  /**
   * One job, run by `run` (which calls `job` inside it, and must succeed); what the requests looked like when the
   * job started, and once everything it sent was answered.
   */
  async function countedJob(run: (job: () => void) => Promise<{ status: string }>): Promise<Counted> {
    const atStart = sent.length;
    const serverAtStart = reachedRedis();
    let seen: Counted["seen"] | undefined;
    const res = await run(() => {
      const mine = sent.slice(atStart);
      seen = { started: mine.length, answered: mine.filter((r) => r.answered !== undefined).length };
    });
    expect(res.status).toBe("SUCCESS");
    // Anything the job set off (a late delete, a rewrite) would show within this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent.slice(atStart).every((r) => r.answered !== undefined)).toBe(true);
    return { seen: seen!, total: sent.length - atStart, reachedRedis: reachedRedis() - serverAtStart };
  }

  return { countedJob, reachedRedis };
}
