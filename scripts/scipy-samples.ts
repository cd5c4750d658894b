/**
 * The TypeScript twin of the sampler in scripts/gen-scipy-fixtures.py: the same mulberry32 generator, integer
 * arithmetic and transforms, so tests regenerate exactly the samples SciPy saw without storing them.
 */

export type SampleSpec =
  | { dist: "normal" | "lognormal" | "floornormal"; mu: number; sigma: number }
  | { dist: "pareto"; xm: number; alpha: number }
  | { dist: "mixture"; total: number; components: Array<{ w: number; mu: number; sigma: number }> }
  | { dist: "discrete"; total: number; weights: Array<[number, number]> }
  | { dist: "categorical"; total: number; weights: Array<[string, number]> }
  | { dist: "scores"; total: number; components: Array<{ w: number; mu: number; sigma: number }> }
  | { dist: "outliers"; total: number; w: number; lo: number; hi: number; mu: number; sigma: number }
  | { dist: "masspoint"; total: number; w: number; value: number; mu: number; sigma: number }
  | { dist: "signedlog"; lo: number; hi: number }
  | { dist: "cauchy"; x0: number; gamma: number }
  | { dist: "rounded"; mu: number; sigma: number; step: number };

/** mulberry32: 32-bit state, integer operations only (identical results in Python with & 0xffffffff). */
export class Mulberry32 {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  nextU32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** In (0, 1). */
  uniform(): number {
    return (this.nextU32() + 0.5) / 4294967296;
  }
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function pick<T>(weights: Array<[T, number]>, r: number): T {
  let rest = r;
  for (const [value, w] of weights) {
    if (rest < w) return value;
    rest -= w;
  }
  throw new Error("weights do not cover the draw");
}

/** One draw from a spec. */
export function draw(spec: SampleSpec, rng: Mulberry32): number | string {
  switch (spec.dist) {
    case "normal":
      return spec.mu + spec.sigma * rng.normal();
    case "lognormal":
      return Math.exp(spec.mu + spec.sigma * rng.normal());
    case "floornormal":
      return Math.floor(spec.mu + spec.sigma * rng.normal());
    case "pareto":
      return spec.xm * rng.uniform() ** (-1 / spec.alpha);
    case "mixture": {
      const c = pick(
        spec.components.map((x): [typeof x, number] => [x, x.w]),
        rng.nextU32() % spec.total,
      );
      return c.mu + c.sigma * rng.normal();
    }
    case "discrete":
    case "categorical":
      return pick<number | string>(spec.weights, rng.nextU32() % spec.total);
    case "scores": {
      const c = pick(
        spec.components.map((x): [typeof x, number] => [x, x.w]),
        rng.nextU32() % spec.total,
      );
      return 1 / (1 + Math.exp(-(c.mu + c.sigma * rng.normal())));
    }
    case "outliers":
      if (rng.nextU32() % spec.total < spec.w) return 10 ** (spec.lo + (spec.hi - spec.lo) * rng.uniform());
      return spec.mu + spec.sigma * rng.normal();
    case "masspoint":
      if (rng.nextU32() % spec.total < spec.w) return spec.value;
      return Math.exp(spec.mu + spec.sigma * rng.normal());
    case "signedlog": {
      const sign = rng.nextU32() % 2 === 1 ? -1 : 1;
      return sign * 10 ** (spec.lo + (spec.hi - spec.lo) * rng.uniform());
    }
    case "cauchy":
      return spec.x0 + spec.gamma * Math.tan(Math.PI * (rng.uniform() - 0.5));
    case "rounded":
      return Math.floor(Math.exp(spec.mu + spec.sigma * rng.normal()) / spec.step + 0.5) * spec.step;
  }
}

/** Yield n draws for a seed, in order. */
export function* samples(spec: SampleSpec, seed: number, n: number): Generator<number | string> {
  const rng = new Mulberry32(seed);
  for (let i = 0; i < n; i++) yield draw(spec, rng);
}
