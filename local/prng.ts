/**
 * Seeded pseudo-random numbers for the synthetic streams of local mode. Every scenario run with the
 * same seed produces the same events, so the local run, its tests and its benchmark are reproducible.
 */

/** A source of uniform numbers in [0, 1). */
export type Uniform = () => number;

/**
 * sfc32 seeded through splitmix32: small, fast and well distributed. Not cryptographic: it only has to
 * make simulations repeatable.
 */
function sfc32(seed: number): Uniform {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/**
 * Seeded draws (uniform, normal, Poisson, picks, ids, orders) over one uniform stream: sfc32 from a numeric
 * seed, or a stream of the caller's (e.g. {@link mulberry32}), so that no module writes its own
 * Box-Muller or Poisson sampler.
 */
export class SeededRandom {
  private readonly source: Uniform;
  private spareNormal: number | undefined;

  constructor(seed: number | Uniform) {
    this.source = typeof seed === "number" ? sfc32(seed) : seed;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.source();
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A copy of `xs` in random order (Fisher-Yates). */
  shuffled<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Standard normal (Box-Muller, caching the second draw). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** Poisson draw (Knuth for small means, normal approximation above 50). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 50) return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > limit);
    return k - 1;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  /** A random hex identifier (deterministic for the seed). */
  id(length = 16): string {
    let out = "";
    while (out.length < length) out += this.int(0x10000).toString(16).padStart(4, "0");
    return out.slice(0, length);
  }
}

/**
 * Mulberry32 as a function (lambdas/domain/stats/mulberry32.ts): the benchmarks and test fixtures use it
 * for reproducible synthetic batches (scripts/scipy-samples.ts keeps its own class, which mirrors the
 * Python generator of the SciPy fixtures bit for bit).
 */
export { mulberry32 } from "../lambdas/domain/stats/mulberry32";
