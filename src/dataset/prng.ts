/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) and the draws the generators need.
 * Every random choice of the dataset goes through one of these, so a seed fixes the whole run.
 */
export type Rng = {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** Uniform float in [min, max). */
  float(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by non-negative weights. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  shuffle<T>(items: readonly T[]): T[];
  /** Uniform bigint in [min, max] at a resolution of 1e-6 of the range. */
  bigint(min: bigint, max: bigint): bigint;
  /** Log-uniform bigint in [min, max] (min > 0): small and large amounts equally likely per decade. */
  logBigint(min: bigint, max: bigint): bigint;
  /** An independent generator derived from this one's seed and a label. */
  fork(label: string): Rng;
};

function splitmix32(a: number): () => number {
  let s = a >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a string, for deriving sub-seeds from labels. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function createRng(seed: number | string): Rng {
  const base = typeof seed === "number" ? seed >>> 0 : hashString(seed);
  const init = splitmix32(base);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const raw = (): number => {
    // sfc32
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) raw();

  const rng: Rng = {
    next: () => raw() / 4294967296,
    int: (min, max) => min + Math.floor(rng.next() * (max - min + 1)),
    float: (min, max) => min + rng.next() * (max - min),
    chance: (p) => rng.next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[Math.floor(rng.next() * items.length)] as T;
    },
    weighted<T>(items: readonly (readonly [T, number])[]): T {
      const total = items.reduce((s, [, w]) => s + w, 0);
      if (items.length === 0 || total <= 0) throw new Error("weighted pick with no weight");
      let x = rng.next() * total;
      for (const [item, w] of items) {
        x -= w;
        if (x < 0) return item;
      }
      return (items[items.length - 1] as readonly [T, number])[0];
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
    bigint(min, max) {
      if (max <= min) return min;
      const steps = 1_000_000n;
      return min + ((max - min) * BigInt(Math.floor(rng.next() * 1_000_001))) / steps;
    },
    logBigint(min, max) {
      if (max <= min) return min;
      const lo = Math.log(Number(min));
      const hi = Math.log(Number(max));
      const x = Math.exp(lo + rng.next() * (hi - lo));
      // Keep 6 significant digits exact and scale with bigint arithmetic (amounts exceed 2^53).
      const exp = Math.max(0, Math.floor(Math.log10(x)) - 5);
      const v = BigInt(Math.floor(x / 10 ** exp)) * 10n ** BigInt(exp);
      return v < min ? min : v > max ? max : v;
    },
    fork(label) {
      return createRng((base ^ hashString(label) ^ raw()) >>> 0);
    },
  };
  return rng;
}
