/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs` (generous on purpose). */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const end = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (lastError ? `: ${String(lastError)}` : ""));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function uniqueKey(label: string): string {
  return `${label}:${crypto.randomUUID()}`;
}
