import { EdgeVM } from "@edge-runtime/vm";

/**
 * Vercel's edge runtime (@edge-runtime/vm) as the platform gives it to a function: Vercel hands waitUntil to
 * @vercel/functions through a request context under Symbol.for("@vercel/request-context"), and this one collects
 * the promises. `settleWaitUntil()` inside the VM waits for all of them, including those handed over meanwhile, as
 * the platform does before it stops the isolate.
 */
export function edgeVmWithWaitUntil(): EdgeVM {
  const vm = new EdgeVM();
  vm.evaluate(`
    globalThis.__pending = [];
    globalThis[Symbol.for("@vercel/request-context")] = { get: () => ({ waitUntil: (p) => globalThis.__pending.push(p) }) };
    globalThis.settleWaitUntil = async () => {
      for (let seen = -1; seen !== __pending.length; ) {
        seen = __pending.length;
        await Promise.all(__pending);
      }
    };`);
  return vm;
}
