// The same Worker with the global waitUntil of "cloudflare:workers", which
// always acts for the request that is running: it can be the Locker's own
// option, and calls need none.
import { waitUntil } from "cloudflare:workers";
import { createLocker, runJob, type Env } from "./job";
import type { Locker } from "pulselock";

let locker: Locker | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    locker ??= createLocker(env, waitUntil);
    return runJob(request, locker);
  },
};
