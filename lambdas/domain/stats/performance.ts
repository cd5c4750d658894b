/**
 * Realized performance metrics from a profile's sufficient statistics, so the evaluator never needs raw
 * events. A metric is absent when its denominator is zero (e.g. no positive predictions for precision, no
 * scores for AUC), never NaN, so "no data" cannot be mistaken for "bad model".
 */
import type { PerformanceStats } from "./profile";

export interface PerformanceMetrics {
  /** Labelled outcomes the metrics are computed from. */
  n: number;
  accuracy?: number;
  precision?: number;
  recall?: number;
  f1?: number;
  auc?: number;
  logLoss?: number;
  brier?: number;
  macroF1?: number;
  mae?: number;
  rmse?: number;
  mape?: number;
}

function ratio(num: number, den: number): number | undefined {
  return den > 0 ? num / den : undefined;
}

/** AUC from per-class score histograms: P(score_pos > score_neg) + 0.5 P(same bin). */
export function aucFromHistograms(pos: Map<number, number>, neg: Map<number, number>): number | undefined {
  const bins = [...new Set([...pos.keys(), ...neg.keys()])].sort((a, b) => a - b);
  let P = 0;
  let N = 0;
  for (const n of pos.values()) P += n;
  for (const n of neg.values()) N += n;
  if (P === 0 || N === 0) return undefined;
  let negBelow = 0;
  let area = 0;
  for (const b of bins) {
    const p = pos.get(b) ?? 0;
    const q = neg.get(b) ?? 0;
    area += p * (negBelow + q / 2);
    negBelow += q;
  }
  return area / (P * N);
}

/** Compute the task's metrics from its sufficient statistics. */
export function performanceMetrics(stats: PerformanceStats): PerformanceMetrics {
  const out: PerformanceMetrics = { n: stats.n };
  const set = <K extends keyof PerformanceMetrics>(k: K, v: PerformanceMetrics[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  switch (stats.task) {
    case "binary": {
      const { tp, fp, tn, fn } = stats;
      const precision = ratio(tp, tp + fp);
      const recall = ratio(tp, tp + fn);
      set("accuracy", ratio(tp + tn, stats.n));
      set("precision", precision);
      set("recall", recall);
      set("f1", ratio(2 * tp, 2 * tp + fp + fn));
      set("auc", aucFromHistograms(stats.positiveScores, stats.negativeScores));
      set("logLoss", ratio(stats.logLossSum, stats.scored));
      set("brier", ratio(stats.brierSum, stats.scored));
      break;
    }
    case "multiclass": {
      const classes = new Set<string>();
      let correct = 0;
      const tp = new Map<string, number>();
      const predicted = new Map<string, number>();
      const actual = new Map<string, number>();
      for (const [label, row] of Object.entries(stats.confusion)) {
        classes.add(label);
        for (const [pred, n] of Object.entries(row)) {
          classes.add(pred);
          if (pred === label) {
            correct += n;
            tp.set(label, n);
          }
          predicted.set(pred, (predicted.get(pred) ?? 0) + n);
          actual.set(label, (actual.get(label) ?? 0) + n);
        }
      }
      set("accuracy", ratio(correct, stats.n));
      if (classes.size > 0) {
        let f1Sum = 0;
        for (const c of classes) {
          const t = tp.get(c) ?? 0;
          f1Sum += ratio(2 * t, (predicted.get(c) ?? 0) + (actual.get(c) ?? 0)) ?? 0;
        }
        out.macroF1 = f1Sum / classes.size;
      }
      set("logLoss", ratio(stats.logLossSum, stats.probabilityN));
      break;
    }
    case "regression": {
      set("mae", ratio(stats.absErrorSum, stats.n));
      const mse = ratio(stats.squaredErrorSum, stats.n);
      set("rmse", mse === undefined ? undefined : Math.sqrt(mse));
      set("mape", ratio(stats.absPercentErrorSum, stats.absPercentN));
      break;
    }
  }
  return out;
}
