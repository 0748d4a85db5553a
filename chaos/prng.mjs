// A small seeded PRNG (mulberry32), so that a chaos run's choices (which
// fault, when, against whom, for how long) replay from its seed.

/** Turns any seed text or number into a 32-bit integer. */
export function seedToInt(seed) {
  const text = String(seed);
  if (/^\d+$/.test(text)) return Number(BigInt(text) % 4294967296n);
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function createRandom(seed) {
  let a = seedToInt(seed);
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** A float in [lo, hi). */
    between: (lo, hi) => lo + (hi - lo) * next(),
    /** An integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    pick: (items) => items[Math.floor(items.length * next())],
    chance: (p) => next() < p,
    shuffle(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor((i + 1) * next());
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
}
