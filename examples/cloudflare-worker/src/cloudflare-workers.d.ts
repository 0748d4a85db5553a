// The one export of the workerd built-in module that this example uses
// (@cloudflare/workers-types declares it in full).
declare module "cloudflare:workers" {
  export function waitUntil(promise: Promise<unknown>): void;
}
