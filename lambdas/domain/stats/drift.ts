/**
 * Drift metrics between a reference profile (baseline) and a current profile, exactly as pinned in
 * docs/statistics.md ("Pinned definitions") so they can be checked against SciPy. Numeric metrics are
 * computed from the sketches: exact while a sketch still holds every distinct value, otherwise from a
 * piecewise-uniform model of each cell (see docs/statistics.md for the error). Categorical metrics are
 * exact.
 */
import { chiSquaredSf, ks2SampPValue } from "./distributions";
import { type BridgeIntegralMoments, bridgeIntegralMoments } from "./noise";
import type { CategoricalSummary, FeatureSummary, NumericSummary, Profile } from "./profile";
import { type Piece, sketchPieces } from "./sketch";
import { categoryHash } from "./top-k";

export interface DriftOptions {
  /** Number of reference-quantile bins for numeric PSI and Jensen-Shannon (default 10). */
  bins?: number;
}

export interface SampleSizes {
  reference: number;
  current: number;
}

/**
 * Numeric drift. All metrics are NaN (null in JSON) when either side has no values. `wassersteinNormalized`
 * is +Infinity when the reference is constant and the current distribution differs from it.
 */
export interface NumericDrift {
  type: "numeric";
  n: SampleSizes;
  ks: number;
  ksPValue: number;
  wasserstein: number;
  wassersteinNormalized: number;
  psi: number;
  jensenShannon: number;
  /** What the sampling-noise floors need (stats/noise.ts); absent when a side has no values. */
  noise?: NumericNoiseModel;
}

/** The null-model quantities of a numeric comparison. */
export interface NumericNoiseModel {
  /** Bins PSI and Jensen-Shannon used (reference-quantile edges, duplicates merged). */
  readonly bins: number;
  /** Moments of the integrated |Brownian bridge| under the reference CDF (value units), for W1. */
  readonly bridge: BridgeIntegralMoments;
  /** Population standard deviation of the reference (what W1 is normalized by). */
  readonly referenceSd: number;
}

/** The null-model quantities of a categorical comparison. */
export interface CategoricalNoiseModel {
  /** Categories with a count on either side. */
  readonly categories: number;
  /** Largest sqrt(p (1 - p)) over the categories, p the pooled frequency (for L-infinity). */
  readonly maxSd: number;
}

export interface CategoricalDrift {
  type: "categorical";
  n: SampleSizes;
  chiSquared: number;
  chiSquaredPValue: number;
  lInfinity: number;
  jensenShannon: number;
  psi: number;
  /** What the sampling-noise floors need (stats/noise.ts); absent when a side has no values. */
  noise?: CategoricalNoiseModel;
}

export type FeatureDrift = NumericDrift | CategoricalDrift;

/** Raised when two summaries cannot be compared (different kinds). */
export class DriftInputError extends Error {
  override name = "DriftInputError";
}

/** Proportions are floored at this value in PSI (pinned). */
export const PSI_FLOOR = 1e-4;
/** Name of the pooled bucket of untracked categories when it takes part in a comparison. */
export const OTHER_CATEGORY = "__other__";

/** Population stability index of two proportion vectors, each proportion floored at 1e-4. */
export function psi(reference: readonly number[], current: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]!, PSI_FLOOR);
    const c = Math.max(current[i]!, PSI_FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

/** Jensen-Shannon distance, base 2, as `scipy.spatial.distance.jensenshannon(p, q, base=2)`. */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(0, js / Math.LN2 / 2));
}

/** A distribution given as sorted disjoint pieces (points and uniform intervals), with CDF queries. */
class PiecewiseDistribution {
  readonly total: number;
  private readonly cum: Float64Array;
  constructor(readonly pieces: readonly Piece[]) {
    this.cum = new Float64Array(pieces.length + 1);
    for (let i = 0; i < pieces.length; i++) this.cum[i + 1] = this.cum[i]! + pieces[i]!.mass;
    this.total = this.cum[pieces.length]!;
  }

  /** Index of the last piece with lo <= x, or -1. */
  private find(x: number): number {
    let lo = 0;
    let hi = this.pieces.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.pieces[mid]!.lo <= x) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** Mass at or below x (right-continuous CDF, unnormalized). */
  atOrBelow(x: number): number {
    const i = this.find(x);
    if (i < 0) return 0;
    const p = this.pieces[i]!;
    if (x >= p.hi) return this.cum[i + 1]!;
    return this.cum[i]! + (p.mass * (x - p.lo)) / (p.hi - p.lo);
  }

  /** Mass strictly below x (left limit of the CDF, unnormalized). */
  below(x: number): number {
    const i = this.find(x);
    if (i < 0) return 0;
    const p = this.pieces[i]!;
    if (p.lo === p.hi) return x > p.lo ? this.cum[i + 1]! : this.cum[i]!;
    if (x >= p.hi) return this.cum[i + 1]!;
    return this.cum[i]! + (p.mass * (x - p.lo)) / (p.hi - p.lo);
  }

  /** The k-th smallest value (0-based), spreading a cell's values evenly over it. */
  orderStatistic(k: number): number {
    let lo = 0;
    let hi = this.pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid + 1]! > k) hi = mid;
      else lo = mid + 1;
    }
    const p = this.pieces[lo]!;
    if (p.lo === p.hi) return p.lo;
    return p.lo + ((k - this.cum[lo]! + 0.5) / p.mass) * (p.hi - p.lo);
  }

  /** Quantile with numpy.quantile's default "linear" method. */
  quantile(q: number): number {
    const h = (this.total - 1) * q;
    const i = Math.floor(h);
    const t = h - i;
    const a = this.orderStatistic(i);
    if (t === 0) return a;
    const b = this.orderStatistic(Math.min(i + 1, this.total - 1));
    const diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  }
}

function breakpoints(a: PiecewiseDistribution, b: PiecewiseDistribution): number[] {
  const xs: number[] = [];
  for (const d of [a, b]) {
    for (const p of d.pieces) {
      xs.push(p.lo);
      if (p.hi !== p.lo) xs.push(p.hi);
    }
  }
  xs.sort((x, y) => x - y);
  const out: number[] = [];
  for (const x of xs) if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  return out;
}

/** KS statistic and W1 distance between two piecewise distributions (exact for the piecewise model). */
function ksAndWasserstein(a: PiecewiseDistribution, b: PiecewiseDistribution): { ks: number; w1: number } {
  const xs = breakpoints(a, b);
  let ks = 0;
  let w1 = 0;
  let prevX = 0;
  let prevDiff = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const left = a.below(x) / a.total - b.below(x) / b.total;
    const right = a.atOrBelow(x) / a.total - b.atOrBelow(x) / b.total;
    ks = Math.max(ks, Math.abs(left), Math.abs(right));
    if (i > 0) {
      const width = x - prevX;
      const u = prevDiff;
      const v = left;
      if ((u >= 0 && v >= 0) || (u <= 0 && v <= 0)) w1 += (width * (Math.abs(u) + Math.abs(v))) / 2;
      else w1 += (width * (u * u + v * v)) / (2 * (Math.abs(u) + Math.abs(v)));
    }
    prevX = x;
    prevDiff = right;
  }
  return { ks: Math.min(1, ks), w1 };
}

function nanNumeric(n: SampleSizes): NumericDrift {
  const nan = Number.NaN;
  return {
    type: "numeric",
    n,
    ks: nan,
    ksPValue: nan,
    wasserstein: nan,
    wassersteinNormalized: nan,
    psi: nan,
    jensenShannon: nan,
  };
}

/** Drift between two numeric summaries, per the pinned definitions. */
export function numericDrift(
  ref: NumericSummary,
  cur: NumericSummary,
  opts: DriftOptions = {},
): NumericDrift {
  const n = { reference: ref.count, current: cur.count };
  if (ref.count === 0 || cur.count === 0) return nanNumeric(n);
  const bins = opts.bins ?? 10;
  const a = new PiecewiseDistribution(sketchPieces(ref.sketch, ref.min, ref.max));
  const b = new PiecewiseDistribution(sketchPieces(cur.sketch, cur.min, cur.max));
  const { ks, w1 } = ksAndWasserstein(a, b);
  const sd = Math.sqrt(ref.m2 / ref.count);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = a.quantile(i / bins);
    if (edges.length === 0 || edges[edges.length - 1] !== e) edges.push(e);
  }
  const r: number[] = [];
  const c: number[] = [];
  let prevR = 0;
  let prevC = 0;
  for (const e of edges) {
    const br = a.below(e);
    const bc = b.below(e);
    r.push((br - prevR) / a.total);
    c.push((bc - prevC) / b.total);
    prevR = br;
    prevC = bc;
  }
  r.push((a.total - prevR) / a.total);
  c.push((b.total - prevC) / b.total);
  return {
    type: "numeric",
    n,
    ks,
    ksPValue: ks2SampPValue(ks, ref.count, cur.count),
    wasserstein: w1,
    wassersteinNormalized: sd > 0 ? w1 / sd : w1 === 0 ? 0 : Number.POSITIVE_INFINITY,
    psi: psi(r, c),
    jensenShannon: jensenShannon(r, c),
    noise: { bins: r.length, bridge: bridgeIntegralMoments((q) => a.quantile(q)), referenceSd: sd },
  };
}

/** Counts per category after aligning both sides to the same tracked-category set (same hash level). */
function alignedCounts(s: CategoricalSummary, level: number): Map<string, number> {
  const out = new Map<string, number>();
  let other = s.other;
  for (const [c, n] of s.counts) {
    if (level === 0 || (categoryHash(c) & ((1 << level) - 1)) === 0) out.set(c, n);
    else other += n;
  }
  if (other > 0) out.set(OTHER_CATEGORY, (out.get(OTHER_CATEGORY) ?? 0) + other);
  return out;
}

/** Drift between two categorical summaries, over the union of categories; exact. */
export function categoricalDrift(
  ref: CategoricalSummary,
  cur: CategoricalSummary,
  _opts: DriftOptions = {},
): CategoricalDrift {
  const n = { reference: ref.count, current: cur.count };
  if (ref.count === 0 || cur.count === 0) {
    const nan = Number.NaN;
    return {
      type: "categorical",
      n,
      chiSquared: nan,
      chiSquaredPValue: nan,
      lInfinity: nan,
      jensenShannon: nan,
      psi: nan,
    };
  }
  const level = Math.max(ref.level, cur.level);
  const rc = alignedCounts(ref, level);
  const cc = alignedCounts(cur, level);
  const categories = [...new Set([...rc.keys(), ...cc.keys()])].sort();
  const R = ref.count;
  const C = cur.count;
  const N = R + C;
  const r: number[] = [];
  const c: number[] = [];
  let chi2 = 0;
  let lInf = 0;
  let maxSd = 0;
  for (const cat of categories) {
    const o1 = rc.get(cat) ?? 0;
    const o2 = cc.get(cat) ?? 0;
    const col = o1 + o2;
    const e1 = (R * col) / N;
    const e2 = (C * col) / N;
    chi2 += (o1 - e1) ** 2 / e1 + (o2 - e2) ** 2 / e2;
    r.push(o1 / R);
    c.push(o2 / C);
    lInf = Math.max(lInf, Math.abs(o1 / R - o2 / C));
    const pooled = col / N;
    maxSd = Math.max(maxSd, Math.sqrt(pooled * (1 - pooled)));
  }
  const dof = categories.length - 1;
  return {
    type: "categorical",
    n,
    chiSquared: dof === 0 ? 0 : chi2,
    chiSquaredPValue: dof === 0 ? 1 : chiSquaredSf(chi2, dof),
    lInfinity: lInf,
    jensenShannon: jensenShannon(r, c),
    psi: psi(r, c),
    noise: { categories: categories.length, maxSd },
  };
}

/** Drift between two summaries of the same kind (features, predictions or scores). */
export function summaryDrift(
  ref: FeatureSummary,
  cur: FeatureSummary,
  opts: DriftOptions = {},
): FeatureDrift {
  if (ref.kind === "numeric" && cur.kind === "numeric") return numericDrift(ref, cur, opts);
  if (ref.kind === "categorical" && cur.kind === "categorical") return categoricalDrift(ref, cur, opts);
  throw new DriftInputError(`cannot compare a ${ref.kind} summary with a ${cur.kind} summary`);
}

/**
 * Drift of every feature present in both profiles with the same kind. Features on one side only, or whose
 * kind changed, have no meaningful drift and are left out (the caller sees them missing from the result).
 */
export function compareProfiles(
  ref: Profile,
  cur: Profile,
  opts: DriftOptions = {},
): Record<string, FeatureDrift> {
  const out: Record<string, FeatureDrift> = {};
  for (const name of Object.keys(ref.features).sort()) {
    const a = ref.features[name]!;
    const b = cur.features[name];
    if (b === undefined || a.kind !== b.kind) continue;
    out[name] = summaryDrift(a, b, opts);
  }
  return out;
}
