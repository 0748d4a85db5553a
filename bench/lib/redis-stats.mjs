// Counts the commands a Redis server ran: client commands plus the commands
// scripts ran inside Lua, as INFO commandstats reports both.
/** Zeroes INFO commandstats (CONFIG RESETSTAT) before a measured phase. */
export async function resetStats(admin) {
  await admin.config("RESETSTAT");
}

/** Calls per command since the last reset, without the admin's own INFO/CONFIG. */
export async function commandCalls(admin) {
  const text = await admin.info("commandstats");
  const calls = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === "info" || m[1].startsWith("config")) continue;
    calls[m[1]] = Number(m[2]);
  }
  return calls;
}

export const totalCalls = (calls) => Object.values(calls).reduce((a, b) => a + b, 0);

/** "evalsha 2, get 2, set 1": the busiest commands first, for RESULTS.md. */
export function describeCalls(calls, per) {
  return Object.entries(calls)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${(n / per).toFixed(2)}`)
    .join(", ");
}

/** CPU seconds the redis-server has used (user + system, main thread included), from INFO cpu. */
export async function serverCpuSeconds(admin) {
  const text = await admin.info("cpu");
  const get = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? 0);
  return get("used_cpu_user") + get("used_cpu_sys");
}
