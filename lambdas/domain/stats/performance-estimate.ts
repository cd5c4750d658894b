/**
 * A performance metric with its standard error and the count it rests on, from a profile's sufficient
 * statistics. The decision compares a window with its baseline as a one-sided test that includes both
 * sides' uncertainty, and applies minimum sample sizes to each metric's own denominator: recall rests on
 * the positives, precision on the predicted positives, AUC on the smaller class.
 *
 * Standard errors: binomial for the proportions (accuracy, precision, recall), the delta method for F1,
 * Hanley and McNeil (1982) for AUC, the sample variance of the per-outcome loss for log loss, Brier,
 * MAE and MAPE, and the delta method on the mean squared error for RMSE (sums of squares are part of the
 * sufficient statistics), a deterministic multinomial resampling of the confusion matrix for macro F1.
 */
import type { PerformanceMetricName } from "../../../contracts/policy";
import { mulberry32 } from "./mulberry32";
import { performanceMetrics } from "./performance";
import type { MulticlassPerformance, PerformanceStats } from "./profile";

export interface MetricEstimate {
  readonly value: number;
  /** Standard error of `value`; undefined when the statistics do not carry what it needs. */
  readonly se: number | undefined;
  /** The count the metric rests on (labelled pairs, positives, predicted positives, ...). */
  readonly denominator: number;
  /** What `denominator` counts, for messages. */
  readonly denominatorName: string;
}

const binomialSe = (p: number, n: number): number => Math.sqrt(Math.max(0, p * (1 - p)) / n);

/** Variance of a mean from its sum and sum of squares over n values, divided by n (the SE squared). */
function meanVariance(sum: number, sumOfSquares: number | undefined, n: number): number | undefined {
  if (sumOfSquares === undefined || n < 2) return undefined;
  const mean = sum / n;
  return Math.max(0, sumOfSquares / n - mean * mean) / n;
}

/** Hanley-McNeil standard error of an AUC with P positives and N negatives. */
export function aucStandardError(auc: number, positives: number, negatives: number): number {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const variance =
    (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) /
    (positives * negatives);
  return Math.sqrt(Math.max(0, variance));
}

/** Delta-method standard error of F1 = 2tp / (2tp + fp + fn) under multinomial sampling of n outcomes. */
export function f1StandardError(tp: number, fp: number, fn: number, n: number): number {
  const d = 2 * tp + fp + fn;
  if (d === 0 || n === 0) return 0;
  // Gradient of F1 in the cell counts (tp, fp, fn); tn does not enter.
  const gradient = [(2 * (fp + fn)) / (d * d), (-2 * tp) / (d * d), (-2 * tp) / (d * d)];
  const shares = [tp / n, fp / n, fn / n];
  let variance = 0;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const covariance = i === j ? shares[i]! * (1 - shares[i]!) : -shares[i]! * shares[j]!;
      variance += gradient[i]! * gradient[j]! * covariance * n;
    }
  return Math.sqrt(Math.max(0, variance));
}

/** Macro F1 of a confusion matrix given as cells (label, prediction, count). */
function macroF1Of(cells: ReadonlyArray<readonly [string, string, number]>): number {
  const classes = new Set<string>();
  const tp = new Map<string, number>();
  const predicted = new Map<string, number>();
  const actual = new Map<string, number>();
  for (const [label, prediction, count] of cells) {
    classes.add(label);
    classes.add(prediction);
    if (label === prediction) tp.set(label, (tp.get(label) ?? 0) + count);
    predicted.set(prediction, (predicted.get(prediction) ?? 0) + count);
    actual.set(label, (actual.get(label) ?? 0) + count);
  }
  let sum = 0;
  for (const c of classes) {
    const denominator = (predicted.get(c) ?? 0) + (actual.get(c) ?? 0);
    sum += denominator > 0 ? (2 * (tp.get(c) ?? 0)) / denominator : 0;
  }
  return classes.size > 0 ? sum / classes.size : 0;
}

/**
 * Standard error of macro F1 by a deterministic multinomial resampling of the confusion matrix (200
 * replicates, fixed seed): the same statistics always give the same standard error.
 */
export function macroF1StandardError(stats: MulticlassPerformance, replicates = 200): number {
  const cells: Array<[string, string, number]> = [];
  for (const [label, row] of Object.entries(stats.confusion))
    for (const [prediction, count] of Object.entries(row))
      if (count > 0) cells.push([label, prediction, count]);
  const n = cells.reduce((sum, cell) => sum + cell[2], 0);
  if (n < 2) return 0;
  const cumulative: number[] = [];
  let running = 0;
  for (const cell of cells) {
    running += cell[2] / n;
    cumulative.push(running);
  }
  const random = mulberry32(0x5eed);
  const values: number[] = [];
  const counts = new Float64Array(cells.length);
  for (let r = 0; r < replicates; r++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const u = random();
      let lo = 0;
      let hi = cells.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      counts[lo]! += 1;
    }
    values.push(macroF1Of(cells.map(([label, prediction], k) => [label, prediction, counts[k]!] as const)));
  }
  const mean = values.reduce((a, b) => a + b, 0) / replicates;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (replicates - 1));
}

/** Smallest number of outcomes of any class seen as a label (the support macro F1 rests on). */
function smallestClassSupport(stats: MulticlassPerformance): number {
  let smallest = Number.POSITIVE_INFINITY;
  for (const row of Object.values(stats.confusion)) {
    const support = Object.values(row).reduce((a, b) => a + b, 0);
    smallest = Math.min(smallest, support);
  }
  return Number.isFinite(smallest) ? smallest : 0;
}

/** The metric, its standard error and its denominator; undefined when the task does not produce it. */
export function estimateMetric(
  stats: PerformanceStats,
  metric: PerformanceMetricName,
): MetricEstimate | undefined {
  const value = (performanceMetrics(stats) as unknown as Record<string, number | undefined>)[metric];
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const estimate = (
    se: number | undefined,
    denominator: number,
    denominatorName: string,
  ): MetricEstimate => ({
    value,
    se,
    denominator,
    denominatorName,
  });
  switch (stats.task) {
    case "binary": {
      const { tp, fp, tn, fn } = stats;
      switch (metric) {
        case "accuracy":
          return estimate(binomialSe(value, stats.n), stats.n, "labelled pairs");
        case "precision":
          return estimate(binomialSe(value, tp + fp), tp + fp, "predicted positives");
        case "recall":
          return estimate(binomialSe(value, tp + fn), tp + fn, "positives");
        case "f1":
          return estimate(f1StandardError(tp, fp, fn, stats.n), Math.min(tp + fp, tp + fn), "positives");
        case "auc": {
          const positives = tp + fn;
          const negatives = fp + tn;
          return estimate(
            aucStandardError(value, positives, negatives),
            Math.min(positives, negatives),
            "labelled pairs of the smaller class",
          );
        }
        case "logLoss": {
          const variance = meanVariance(stats.logLossSum, stats.logLossSquaredSum, stats.scored);
          return estimate(
            variance === undefined ? undefined : Math.sqrt(variance),
            stats.scored,
            "scored pairs",
          );
        }
        case "brier": {
          const variance = meanVariance(stats.brierSum, stats.brierSquaredSum, stats.scored);
          return estimate(
            variance === undefined ? undefined : Math.sqrt(variance),
            stats.scored,
            "scored pairs",
          );
        }
        default:
          return undefined;
      }
    }
    case "multiclass": {
      if (metric === "accuracy") return estimate(binomialSe(value, stats.n), stats.n, "labelled pairs");
      if (metric === "macroF1")
        return estimate(
          macroF1StandardError(stats),
          smallestClassSupport(stats),
          "labels of the rarest class",
        );
      if (metric === "logLoss") {
        const variance = meanVariance(stats.logLossSum, stats.logLossSquaredSum, stats.probabilityN);
        return estimate(
          variance === undefined ? undefined : Math.sqrt(variance),
          stats.probabilityN,
          "pairs with probabilities",
        );
      }
      return undefined;
    }
    case "regression": {
      if (metric === "mae") {
        const variance = meanVariance(stats.absErrorSum, stats.squaredErrorSum, stats.n);
        return estimate(variance === undefined ? undefined : Math.sqrt(variance), stats.n, "labelled pairs");
      }
      if (metric === "rmse") {
        // Delta method: se(sqrt(MSE)) = se(MSE) / (2 sqrt(MSE)), se(MSE) from the fourth-power sum.
        const variance = meanVariance(stats.squaredErrorSum, stats.fourthPowerErrorSum, stats.n);
        const se = variance === undefined || value === 0 ? undefined : Math.sqrt(variance) / (2 * value);
        return estimate(se, stats.n, "labelled pairs");
      }
      if (metric === "mape") {
        const variance = meanVariance(
          stats.absPercentErrorSum,
          stats.absPercentErrorSquaredSum,
          stats.absPercentN,
        );
        return estimate(
          variance === undefined ? undefined : Math.sqrt(variance),
          stats.absPercentN,
          "labels != 0",
        );
      }
      return undefined;
    }
  }
}
