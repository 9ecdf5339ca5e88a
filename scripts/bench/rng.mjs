// A small seeded random number generator for the benchmark generator. Same seed, same sequence, on every
// platform and Node version (only 32-bit integer arithmetic); Math.random is never used.

/** FNV-1a over the characters of a string: turns a seed such as "42:10000" into a 32-bit state. */
export function hashSeed(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export class Rng {
  /** @param {string | number} seed */
  constructor(seed) {
    this.state = hashSeed(String(seed)) || 1;
  }

  /** mulberry32: a float in [0, 1). */
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min, max) {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p) {
    return this.next() < p;
  }

  pick(items) {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle(items) {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** k distinct items, in the order they were drawn. */
  sample(items, k) {
    return this.shuffle(items).slice(0, Math.min(k, items.length));
  }

  /** One key of `weights` ({ value: weight }), chosen in proportion to its weight. Keys are read in sorted order. */
  weighted(weights) {
    const entries = Object.entries(weights).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [value, weight] of entries) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return entries.at(-1)[0];
  }

  /** A value around `mean`, uniformly between 60% and 140% of it. */
  around(mean) {
    return Math.round(mean * (0.6 + 0.8 * this.next()));
  }
}
