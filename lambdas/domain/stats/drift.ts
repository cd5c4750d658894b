/**
 * Drift metrics between a reference profile (baseline) and a current profile, exactly as pinned in
 * docs/statistics.md ("Pinned definitions") so they can be checked against SciPy. Numeric metrics are
 * computed from the sketches' piecewise distributions (exact while a sketch holds every distinct value);
 * each comes with a bound on its error derived from the two sketches' error bounds (`bounds`, see
 * `NumericDriftBounds`). Categorical metrics are exact while no category is pooled.
 */
import { chiSquaredSf, ks2SampPValue } from "./distributions";
import { standardDeviation } from "./moments";
import { type BridgeIntegralMoments, bridgeIntegralMoments } from "./noise";
import type { CategoricalSummary, FeatureSummary, NumericSummary, Profile } from "./profile";
import { errorBound, type Piece, sketchPieces, sketchW1Bound } from "./sketch";
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
 * How far each numeric metric can be from its value on the exact data (the pinned definition applied to
 * every value the two summaries saw), from the sketches' error bounds alone: no assumption on the data.
 * NaN means unknown: a side has no values, or a sketch was read from a format-1/2 profile (`legacy`).
 * - `ks`: eps_ref + eps_cur, the sketches' sup CDF errors (`errorBound`). Guaranteed.
 * - `psi`, `jensenShannon`: the bins' edges as computed, each bin's proportion known within +-2 eps of its
 *   side (two CDF evaluations; +-eps for the two outer bins, one evaluation each), clamped to [0, 1]; the
 *   bound is the largest change of the metric over that box of proportions (per bin, the convex term's
 *   largest and smallest values on its box: at corners, or 0 where the box meets the diagonal). It covers
 *   the proportions for these edges; the edges themselves are the sketch's reference quantiles, within rank
 *   eps_ref of the exact ones, and that displacement is not in the bound (no bound exists without an
 *   assumption on the current data's density near the edges; docs/statistics.md measures it).
 * - `wasserstein`: the sum of both sketches' certified W1 bounds (`sketchW1Bound`), in value units;
 *   `wassersteinNormalized` that divided by the reference's standard deviation. Guaranteed, but
 *   data-dependent: large for cells spanning many octaves of a heavy tail.
 */
export interface NumericDriftBounds {
  readonly ks: number;
  readonly psi: number;
  readonly jensenShannon: number;
  readonly wasserstein: number;
  readonly wassersteinNormalized: number;
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
  /** Each metric's largest possible error from summarizing (NaN: unknown); see `NumericDriftBounds`. */
  bounds: NumericDriftBounds;
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

/**
 * Errors of the categorical metrics from summarizing: 0 while both sides count every category exactly
 * (no more than `topK` categories, nothing pooled in `other`); NaN (unknown) once categories are pooled,
 * since the metrics are then those of the pooled categories (for chi-squared, JS and PSI never above the
 * full categories' values, but not bounded from above).
 */
export interface CategoricalDriftBounds {
  readonly chiSquared: number;
  readonly lInfinity: number;
  readonly jensenShannon: number;
  readonly psi: number;
}

export interface CategoricalDrift {
  type: "categorical";
  n: SampleSizes;
  chiSquared: number;
  chiSquaredPValue: number;
  lInfinity: number;
  jensenShannon: number;
  psi: number;
  /** Each metric's largest possible error from summarizing (0 or NaN); see `CategoricalDriftBounds`. */
  bounds: CategoricalDriftBounds;
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

/**
 * A distribution given as sorted pieces (points and uniform intervals, as `sketchPieces` returns them), with
 * CDF and quantile queries. Intervals are disjoint but may touch, and a point may sit where two intervals
 * touch (a heavy exact value inside a coarse cell of the sketch): the interval ending there comes first, then
 * the point, then the interval starting there.
 */
export class PiecewiseDistribution {
  readonly total: number;
  private readonly cum: Float64Array;
  constructor(readonly pieces: readonly Piece[]) {
    this.cum = new Float64Array(pieces.length + 1);
    for (let i = 0; i < pieces.length; i++) this.cum[i + 1] = this.cum[i]! + pieces[i]!.mass;
    this.total = this.cum[pieces.length]!;
  }

  /** Number of pieces with lo <= x (`inclusive`) or lo < x. */
  private count(x: number, inclusive: boolean): number {
    let low = 0;
    let high = this.pieces.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const lo = this.pieces[mid]!.lo;
      if (lo < x || (inclusive && lo === x)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /**
   * Mass at or below x (`inclusive`) or strictly below x. Strictly below takes the last piece with lo < x, so
   * a point at x, and the interval starting at x after it, are excluded even when an interval ends at x.
   */
  private mass(x: number, inclusive: boolean): number {
    const after = this.count(x, inclusive);
    if (after === 0) return 0;
    const i = after - 1;
    const p = this.pieces[i]!;
    if (p.lo === p.hi || x >= p.hi) return this.cum[i + 1]!;
    return this.cum[i]! + (p.mass * (x - p.lo)) / (p.hi - p.lo);
  }

  /** Mass at or below x (right-continuous CDF, unnormalized). */
  atOrBelow(x: number): number {
    return this.mass(x, true);
  }

  /** Mass strictly below x (left limit of the CDF, unnormalized). */
  below(x: number): number {
    return this.mass(x, false);
  }

  /**
   * The k-th smallest value (0-based): where the cumulative mass reaches k + 1/2, linear inside an interval
   * (the exact order statistic wherever the pieces are exact points).
   */
  orderStatistic(k: number): number {
    const target = k + 0.5;
    let low = 0;
    let high = this.pieces.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.cum[mid + 1]! >= target) high = mid;
      else low = mid + 1;
    }
    const p = this.pieces[low]!;
    if (p.lo === p.hi) return p.lo;
    const fraction = (target - this.cum[low]!) / p.mass;
    return Math.min(p.hi, Math.max(p.lo, p.lo + fraction * (p.hi - p.lo)));
  }

  /** Quantile with numpy.quantile's default "linear" method, `count` being the number of values. */
  quantile(q: number, count = Math.round(this.total)): number {
    const h = (count - 1) * q;
    const i = Math.floor(h);
    const t = h - i;
    const a = this.orderStatistic(i);
    if (t === 0) return a;
    const b = this.orderStatistic(Math.min(i + 1, count - 1));
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
    bounds: { ks: nan, psi: nan, jensenShannon: nan, wasserstein: nan, wassersteinNormalized: nan },
  };
}

/** The range [low, high] of a proportion known within +-error, clamped to [0, 1]. */
function within(p: number, error: number): [number, number] {
  return [Math.max(0, p - error), Math.min(1, p + error)];
}

/**
 * Smallest and largest value of a per-bin term `term(r, c)` over the box r in `rs`, c in `cs`, for a term
 * that is jointly convex, 0 on the diagonal, increasing in c and decreasing in r above the diagonal (and
 * the reverse below): the PSI term (c - r) ln(c / r) and the Jensen-Shannon term are such. The largest value
 * is at a corner; the smallest is 0 if the box meets the diagonal, else at the corner nearest to it.
 */
function termRange(
  term: (r: number, c: number) => number,
  rs: [number, number],
  cs: [number, number],
): [number, number] {
  const corners = [term(rs[0], cs[0]), term(rs[0], cs[1]), term(rs[1], cs[0]), term(rs[1], cs[1])];
  const high = Math.max(...corners);
  let low: number;
  if (cs[0] > rs[1]) low = term(rs[1], cs[0]);
  else if (cs[1] < rs[0]) low = term(rs[0], cs[1]);
  else low = 0;
  return [Math.min(low, high), high];
}

/** The PSI term of one bin (proportions floored at 1e-4, as `psi`). */
function psiTerm(r: number, c: number): number {
  const rf = Math.max(r, PSI_FLOOR);
  const cf = Math.max(c, PSI_FLOOR);
  return (cf - rf) * Math.log(cf / rf);
}

/** The Jensen-Shannon divergence term of one bin, natural log: a ln(2a/(a+b)) + b ln(2b/(a+b)). */
function jsTerm(a: number, b: number): number {
  const m = (a + b) / 2;
  return (a > 0 ? a * Math.log(a / m) : 0) + (b > 0 ? b * Math.log(b / m) : 0);
}

/**
 * Bounds of PSI and the Jensen-Shannon distance when each bin's proportion may be off by its error (see
 * `NumericDriftBounds`): the largest distance from the reported value to the metric's range over the box.
 */
export function binnedBounds(
  r: readonly number[],
  c: readonly number[],
  rError: readonly number[],
  cError: readonly number[],
): { psi: number; jensenShannon: number } {
  let psiLow = 0;
  let psiHigh = 0;
  let jsLow = 0;
  let jsHigh = 0;
  for (let i = 0; i < r.length; i++) {
    const rs = within(r[i]!, rError[i]!);
    const cs = within(c[i]!, cError[i]!);
    const [pl, ph] = termRange(psiTerm, rs, cs);
    const [jl, jh] = termRange(jsTerm, rs, cs);
    psiLow += pl;
    psiHigh += ph;
    jsLow += jl;
    jsHigh += jh;
  }
  const value = psi(r, c);
  const distance = jensenShannon(r, c);
  const toDistance = (divergence: number): number => Math.sqrt(Math.max(0, divergence) / Math.LN2 / 2);
  return {
    psi: Math.max(psiHigh - value, value - psiLow, 0),
    jensenShannon: Math.max(toDistance(jsHigh) - distance, distance - toDistance(jsLow), 0),
  };
}

/** Drift between two numeric summaries, per the pinned definitions. */
/**
 * The reference's Brownian-bridge moments (the Wasserstein noise floor), once per reference summary: the
 * evaluator compares the same baseline with every window until the next deployment.
 */
const bridges = new WeakMap<NumericSummary, { count: number; bridge: BridgeIntegralMoments }>();
function referenceBridge(ref: NumericSummary, distribution: PiecewiseDistribution): BridgeIntegralMoments {
  const known = bridges.get(ref);
  // The count guards against a summary updated in place since (the ingest's summaries are).
  if (known !== undefined && known.count === ref.count) return known.bridge;
  const bridge = bridgeIntegralMoments((q) => distribution.quantile(q, ref.count));
  bridges.set(ref, { count: ref.count, bridge });
  return bridge;
}

export function numericDrift(
  ref: NumericSummary,
  cur: NumericSummary,
  opts: DriftOptions = {},
): NumericDrift {
  const n = { reference: ref.count, current: cur.count };
  if (ref.count === 0 || cur.count === 0) return nanNumeric(n);
  const bins = opts.bins ?? 10;
  const a = new PiecewiseDistribution(sketchPieces(ref.sketch));
  const b = new PiecewiseDistribution(sketchPieces(cur.sketch));
  const { ks, w1 } = ksAndWasserstein(a, b);
  const sd = standardDeviation(ref);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = a.quantile(i / bins, ref.count);
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
  const normalized = (w: number): number => (sd > 0 ? w / sd : w === 0 ? 0 : Number.POSITIVE_INFINITY);
  const epsRef = errorBound(ref.sketch);
  const epsCur = errorBound(cur.sketch);
  // Inner bins take two CDF evaluations, the outer two one each (the CDF is exact at -inf and +inf).
  const errors = (eps: number): number[] => r.map((_, i) => (i === 0 || i === r.length - 1 ? eps : 2 * eps));
  const binned = binnedBounds(r, c, errors(epsRef), errors(epsCur));
  const w1Bound = sketchW1Bound(ref.sketch) + sketchW1Bound(cur.sketch);
  return {
    type: "numeric",
    n,
    ks,
    ksPValue: ks2SampPValue(ks, ref.count, cur.count),
    wasserstein: w1,
    wassersteinNormalized: normalized(w1),
    psi: psi(r, c),
    jensenShannon: jensenShannon(r, c),
    bounds: {
      ks: epsRef + epsCur,
      psi: Number.isNaN(epsRef + epsCur) ? Number.NaN : binned.psi,
      jensenShannon: Number.isNaN(epsRef + epsCur) ? Number.NaN : binned.jensenShannon,
      wasserstein: w1Bound,
      wassersteinNormalized: Number.isNaN(w1Bound) ? Number.NaN : normalized(w1Bound),
    },
    noise: {
      bins: r.length,
      bridge: referenceBridge(ref, a),
      referenceSd: sd,
    },
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
      bounds: { chiSquared: nan, lInfinity: nan, jensenShannon: nan, psi: nan },
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
  // Exact while every category is counted on both sides; the metrics of pooled categories are unbounded.
  const pooled = ref.level > 0 || cur.level > 0 || ref.other > 0 || cur.other > 0;
  const bound = pooled ? Number.NaN : 0;
  return {
    type: "categorical",
    n,
    chiSquared: dof === 0 ? 0 : chi2,
    chiSquaredPValue: dof === 0 ? 1 : chiSquaredSf(chi2, dof),
    lInfinity: lInf,
    jensenShannon: jensenShannon(r, c),
    psi: psi(r, c),
    bounds: { chiSquared: bound, lInfinity: bound, jensenShannon: bound, psi: bound },
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
