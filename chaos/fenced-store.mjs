// The "fenced store": the resource that the locked jobs write to. It accepts a
// write only if its fencing token is at least the highest token it has
// accepted for that key (equal: the same run writing again), and rejects
// lower ones. That is what a fencing token is for: a run that lost its lock
// and still writes is stopped here, not by its own good behaviour.

export class FencedStore {
  /** key → highest accepted token (as a BigInt-safe string compare is not needed: tokens are µs < 2^53). */
  #highest = new Map();
  accepted = 0;
  rejected = 0;

  /**
   * write: { key, token, owner, start, end }. Returns { accepted, highest }:
   * highest is the key's highest accepted token before this write.
   */
  write({ key, token }) {
    const highest = this.#highest.get(key) ?? 0;
    if (typeof token !== "number" || !Number.isSafeInteger(token) || token < highest) {
      this.rejected++;
      return { accepted: false, highest };
    }
    this.#highest.set(key, token);
    this.accepted++;
    return { accepted: true, highest };
  }
}
