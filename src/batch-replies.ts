/*
 * The acquire and release batches' replies as src/locker.ts reads them until it
 * uses src/lock-batches.ts; then this file goes (with test/unit/batch-replies.test.ts,
 * whose cases test/unit/script-codecs.test.ts holds for the decoders of
 * src/scripts/acquire.ts and src/scripts/release.ts).
 */
import { decodeAcquireReply } from "./scripts/acquire";

export { decodeReleaseReply as releaseReplies } from "./scripts/release";

/** Redis lost this process's liveness record: no lock of the batch was taken. */
export const LAPSED = "LAPSED" as const;

/** A lock of an acquire batch that is ours now: its fencing token and acquiredAt (ms, as written in the record). */
export interface Taken {
  token: number;
  ms: string;
}

/** One acquire answer: taken, the current value of a held key, or a lapse (an entry may also be that key's own Error). */
export type AcquireReply = Taken | string | typeof LAPSED;

/** decodeAcquireReply() in the old shapes. */
export function acquireReplies(reply: unknown, count: number): (AcquireReply | Error)[] {
  return decodeAcquireReply(reply, count).map((o) =>
    o instanceof Error ? o : o.kind === "lapsed" ? LAPSED : o.kind === "held" ? o.record : { token: o.token, ms: String(o.ms) },
  );
}
