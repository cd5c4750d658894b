/**
 * What "the same statistics" means when the same events reach a profile in different batches, merges and
 * retries (docs/statistics.md, "Batch splits"). The ingest's sequence watermarks make a redelivered batch a
 * no-op, but a bisected batch, or events spread over other invocations, build the profile through other
 * inserts and merges, and the numeric sketch's bytes depend on those (its compaction decisions are final).
 * So two profiles of the same events are equal when:
 * - every count is equal: events, labelled pairs, per summary count, missing and invalid, categories and
 *   `other`, confusion counts, score histograms; and the extremes, the moment scale and the legacy marks;
 * - floating-point sums agree within rounding: mean, M2, loss and error sums (relative 1e-9 by default:
 *   floating-point addition is associative only up to rounding; M2 also within 64 n sd |x|max 2^-52, the
 *   rounding of deviations from a mean far from 0);
 * - each numeric sketch's CDF (right and left limits, at every piece boundary of either sketch) agrees
 *   within the sum of the two sketches' error bounds, which is what their guarantee implies for sketches
 *   of the same data. Point masses (e.g. a mass point heavier than n / k) are therefore equal within that
 *   bound too; they are not guaranteed equal exactly, since copies of a value can sit in a coarse cell made
 *   before the value became heavy.
 * Decisions taken on equal statistics can still differ where a metric lies within its bound of a threshold.
 */
import { PiecewiseDistribution } from "./drift";
import type { FeatureSummary, NumericSummary, PerformanceStats, Profile } from "./profile";
import { errorBound, isLegacySketch, type Sketch, sketchCount, sketchPieces } from "./sketch";

export interface EquivalenceOptions {
  /** Relative tolerance of floating-point sums (default 1e-9). */
  readonly relativeTolerance?: number;
}

/** Where two profiles of the same events differ beyond the definition above; empty when equivalent. */
export function profileDifferences(a: Profile, b: Profile, options: EquivalenceOptions = {}): string[] {
  const tolerance = options.relativeTolerance ?? 1e-9;
  const out: string[] = [];
  const exact = (path: string, x: unknown, y: unknown): void => {
    if (!Object.is(x, y) && x !== y) out.push(`${path}: ${String(x)} != ${String(y)}`);
  };
  const close = (path: string, x: number, y: number, scale = 1): void => {
    const size = Math.max(scale, Math.abs(x), Math.abs(y));
    if (!(Math.abs(x - y) <= tolerance * size) && !(x === y)) out.push(`${path}: ${x} != ${y}`);
  };
  exact("task", a.task, b.task);
  exact("count", a.count, b.count);
  exact("labelled", a.labelled, b.labelled);
  const names = new Set([...Object.keys(a.features), ...Object.keys(b.features)]);
  for (const name of [...names].sort()) {
    const x = a.features[name];
    const y = b.features[name];
    if (x === undefined || y === undefined) out.push(`features.${name}: on one side only`);
    else summaryDifferences(`features.${name}`, x, y, exact, close, out);
  }
  summaryDifferences("prediction", a.prediction, b.prediction, exact, close, out);
  if (a.score === undefined || b.score === undefined)
    exact("score", a.score === undefined, b.score === undefined);
  else summaryDifferences("score", a.score, b.score, exact, close, out);
  performanceDifferences(a.performance, b.performance, exact, close);
  return out;
}

type Exact = (path: string, x: unknown, y: unknown) => void;
type Close = (path: string, x: number, y: number, scale?: number) => void;

function summaryDifferences(
  path: string,
  x: FeatureSummary,
  y: FeatureSummary,
  exact: Exact,
  close: Close,
  out: string[],
): void {
  if (x.kind !== y.kind) {
    out.push(`${path}: ${x.kind} != ${y.kind}`);
    return;
  }
  exact(`${path}.count`, x.count, y.count);
  exact(`${path}.missing`, x.missing, y.missing);
  exact(`${path}.invalid`, x.invalid, y.invalid);
  if (x.kind === "categorical" && y.kind === "categorical") {
    exact(`${path}.topK`, x.topK, y.topK);
    exact(`${path}.level`, x.level, y.level);
    exact(`${path}.other`, x.other, y.other);
    for (const c of new Set([...x.counts.keys(), ...y.counts.keys()])) {
      exact(`${path}.counts.${c}`, x.counts.get(c), y.counts.get(c));
    }
    return;
  }
  if (x.kind !== "numeric" || y.kind !== "numeric") return;
  exact(`${path}.min`, x.min, y.min);
  exact(`${path}.max`, x.max, y.max);
  exact(`${path}.momentScale`, x.momentScale, y.momentScale);
  // The mean's rounding is relative to the magnitude of the values, not of the mean (which may be ~0).
  close(`${path}.mean`, x.mean, y.mean, magnitude(x));
  // M2's rounding grows with the values' magnitude too: each update rounds v - mean to about ulp(|mean|),
  // so merge trees may differ by a few n * sd * |mean| * 2^-52 (1e9 + N(0, 1): about 2e-9 relative).
  const n = Math.max(x.count, 1);
  const sd = Math.sqrt(Math.max(x.scaledM2, y.scaledM2) / n);
  const rounding = 64 * n * sd * magnitude(x) * 2 ** -x.momentScale * Number.EPSILON;
  if (!(Math.abs(x.scaledM2 - y.scaledM2) <= rounding)) close(`${path}.scaledM2`, x.scaledM2, y.scaledM2);
  sketchDifferences(`${path}.sketch`, x.sketch, y.sketch, exact, out);
}

function magnitude(s: NumericSummary): number {
  return s.count === 0 ? 1 : Math.max(1, Math.abs(s.min), Math.abs(s.max));
}

/** Counts and legacy marks exactly; CDFs within the sum of the error bounds (unknown for legacy sketches). */
function sketchDifferences(path: string, x: Sketch, y: Sketch, exact: Exact, out: string[]): void {
  exact(`${path}.count`, sketchCount(x), sketchCount(y));
  exact(`${path}.legacy`, isLegacySketch(x), isLegacySketch(y));
  const slack = errorBound(x) + errorBound(y);
  if (Number.isNaN(slack) || sketchCount(x) !== sketchCount(y) || sketchCount(x) === 0) return;
  const n = sketchCount(x);
  const left = new PiecewiseDistribution(sketchPieces(x));
  const right = new PiecewiseDistribution(sketchPieces(y));
  let worst = 0;
  let at = Number.NaN;
  for (const piece of [...left.pieces, ...right.pieces]) {
    for (const v of [piece.lo, piece.hi]) {
      const gap = Math.max(
        Math.abs(left.atOrBelow(v) - right.atOrBelow(v)),
        Math.abs(left.below(v) - right.below(v)),
      );
      if (gap > worst) {
        worst = gap;
        at = v;
      }
    }
  }
  // Masses are sums of fractions of cells: allow rounding on top of the bound.
  if (worst / n > slack + 1e-9) out.push(`${path}: CDFs differ by ${worst / n} at ${at} (bound ${slack})`);
}

/** Performance statistics: counts and histograms exactly, sums within rounding, recursively. */
function performanceDifferences(x: PerformanceStats, y: PerformanceStats, exact: Exact, close: Close): void {
  const walk = (path: string, u: unknown, v: unknown): void => {
    if (u instanceof Map && v instanceof Map) {
      for (const key of new Set([...u.keys(), ...v.keys()])) walk(`${path}.${key}`, u.get(key), v.get(key));
    } else if (typeof u === "number" && typeof v === "number") {
      // Counts are safe integers; a float sum above 2^53 is an integer too, and rounds by merge order.
      if (Number.isSafeInteger(u) && Number.isSafeInteger(v)) exact(path, u, v);
      else close(path, u, v);
    } else if (typeof u === "object" && u !== null && typeof v === "object" && v !== null) {
      const left = u as Record<string, unknown>;
      const right = v as Record<string, unknown>;
      for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
        walk(`${path}.${key}`, left[key], right[key]);
      }
    } else exact(path, u, v);
  };
  walk("performance", x, y);
}

/**
 * The part of a profile that equal deliveries leave identical, for a digest: everything above except the
 * sketches' cells (a numeric summary keeps its counts, extremes, moments and legacy mark). Floating-point
 * sums are left as they are: the digest's canonical form rounds them.
 */
export function invariantView(p: Profile): unknown {
  const summary = (s: FeatureSummary): unknown =>
    s.kind === "categorical"
      ? s
      : {
          kind: s.kind,
          count: s.count,
          missing: s.missing,
          invalid: s.invalid,
          mean: s.mean,
          scaledM2: s.scaledM2,
          momentScale: s.momentScale,
          min: s.min,
          max: s.max,
          legacy: isLegacySketch(s.sketch),
        };
  return {
    task: p.task,
    count: p.count,
    labelled: p.labelled,
    features: Object.fromEntries(Object.entries(p.features).map(([name, s]) => [name, summary(s)])),
    prediction: summary(p.prediction),
    ...(p.score === undefined ? {} : { score: summary(p.score) }),
    performance: p.performance,
  };
}
