/*
 * The pulselock/upstash adapter's transport. The implementation needs only
 * fetch, so it lives in the runtime-agnostic core (src/upstash-transport.ts),
 * which recognises Upstash clients with it; dependencies point one way,
 * from adapters to src.
 */
export { describeUpstash, upstashTransport } from "../../src/upstash-transport";
export type { UpstashClient } from "../../src/upstash-transport";
