/*
 * Recognising clients by shape: pulselock never imports a client library, so
 * it tells ioredis, Upstash and its own Transport apart by what they have.
 */

/** True when `value` is an object whose members named in `spec` have those `typeof`s ("!function" means "not a function"). */
export function hasShape(value: unknown, spec: Record<string, string>): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return Object.entries(spec).every(([name, type]) => (type.startsWith("!") ? typeof v[name] !== type.slice(1) : typeof v[name] === type && v[name] !== null));
}
