// How every test, the chaos run and the matrix bundle a Cloudflare Worker: one
// ES module for workerd, resolved as wrangler does (workerd/worker/browser
// conditions, module fields first), without nodejs_compat.
export const WORKERD_BUNDLE = Object.freeze({
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  logLevel: "silent",
  // workerd's built-in modules (waitUntil and env of "cloudflare:workers").
  external: ["cloudflare:*"],
});
