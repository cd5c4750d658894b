/**
 * Deterministic paired bootstrap for metrics without a closed-form paired test (precision, F1, macro F1:
 * ratios whose denominators differ between the two models). Rows are resampled with replacement, the same
 * rows for both models, so the correlation between them is kept; the percentile interval of the resampled
 * differences (challenger - champion) decides: H0 "worse by more than the margin" is rejected when the
 * interval's lower bound (the alpha quantile) is above -margin.
 *
 * The resampling generator is mulberry32 with a fixed seed: the same holdout and scores always give the
 * same verdict, so a retried evaluation cannot flip the gate. Checked against
 * `scipy.stats.bootstrap(paired=True, method="percentile")` within Monte Carlo tolerance.
 */
import { mulberry32 } from "./mulberry32";
import type { NonInferiorityTest } from "./non-inferiority";

/** Resamples drawn by default: the percentile bounds then move by about 5 % of a standard error. */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 2000;
/** Fixed seed of the resampling generator (any constant does; fixed so that verdicts are reproducible). */
export const BOOTSTRAP_SEED = 0x5eed_9a7e;

/**
 * The difference (challenger - champion) of a metric on the rows listed in `rows` (row indices, repeats
 * allowed), or on every row when `rows` is undefined; undefined when the metric is not defined there.
 */
export type PairedDifference = (rows?: Uint32Array) => number | undefined;

/** Linear-interpolation quantile of sorted values, as `numpy.percentile`'s default. */
function quantileSorted(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/**
 * Paired bootstrap non-inferiority test of a difference of metrics over `n` rows. Undefined when the
 * metric is undefined on the full sample or on more than half of the resamples.
 */
export function pairedBootstrapNonInferiority(
  n: number,
  difference: PairedDifference,
  margin: number,
  alpha: number,
  resamples = DEFAULT_BOOTSTRAP_RESAMPLES,
): NonInferiorityTest | undefined {
  const estimate = difference();
  if (estimate === undefined || n < 2) return undefined;
  const random = mulberry32(BOOTSTRAP_SEED);
  const rows = new Uint32Array(n);
  const draws: number[] = [];
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) rows[i] = Math.floor(random() * n);
    const value = difference(rows);
    if (value !== undefined && Number.isFinite(value)) draws.push(value);
  }
  if (draws.length < resamples / 2) return undefined;
  const sorted = Float64Array.from(draws).sort();
  const centre = draws.reduce((s, x) => s + x, 0) / draws.length;
  const standardError = Math.sqrt(draws.reduce((s, x) => s + (x - centre) ** 2, 0) / (draws.length - 1));
  const lower = quantileSorted(sorted, alpha);
  const atOrBelowMargin = draws.filter((x) => x <= -margin).length;
  const excess = estimate + margin;
  return {
    estimate,
    interval: [lower, quantileSorted(sorted, 1 - alpha)],
    statistic:
      standardError > 0
        ? excess / standardError
        : excess > 0
          ? Number.POSITIVE_INFINITY
          : Number.NEGATIVE_INFINITY,
    pValue: atOrBelowMargin / draws.length,
    rejected: lower > -margin,
    method: `paired bootstrap (${draws.length} resamples of the ${n} rows, percentile interval)`,
  };
}
