/**
 * Confidence-based performance estimation (CBPE, after NannyML) for binary classifiers: when scores
 * are calibrated probabilities, a prediction with score p made at decision threshold t is correct with
 * probability p (if p >= t) or 1 - p (if p < t). Summing these over the score distribution gives the
 * expected confusion matrix, hence expected accuracy, precision, recall and F1 without any label.
 *
 * Labels arrive days late; this estimate reacts as soon as the scores move. It is only as good as the
 * calibration and assumes covariate shift (P(y | x) unchanged): concept drift is invisible to it, which
 * is why realized performance remains the primary signal once labels exist.
 *
 * Works on the profile's score summary (a mergeable sketch), so no per-event data is needed: each
 * sketch cell is a uniform mass on [lo, hi], split at the threshold when it straddles it.
 */
import type { NumericSummary } from "../stats/profile";
import { sketchPieces } from "../stats/sketch";

export interface ExpectedConfusion {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  readonly n: number;
}

export interface EstimatedMetrics {
  readonly n: number;
  readonly accuracy?: number;
  readonly precision?: number;
  readonly recall?: number;
  readonly f1?: number;
}

/** Expected confusion matrix of the scores in `score` at decision threshold `threshold`. */
export function expectedConfusion(score: NumericSummary, threshold = 0.5): ExpectedConfusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  if (score.count > 0) {
    for (const piece of sketchPieces(score.sketch, score.min, score.max)) {
      const lo = Math.min(1, Math.max(0, piece.lo));
      const hi = Math.min(1, Math.max(0, piece.hi));
      // Split a cell straddling the threshold proportionally (uniform mass within a cell).
      const parts: Array<[number, number, number]> =
        lo < threshold && hi > threshold
          ? [
              [lo, threshold, (piece.mass * (threshold - lo)) / (hi - lo)],
              [threshold, hi, (piece.mass * (hi - threshold)) / (hi - lo)],
            ]
          : [[lo, hi, piece.mass]];
      for (const [a, b, mass] of parts) {
        const meanP = (a + b) / 2;
        if (a >= threshold) {
          tp += mass * meanP;
          fp += mass * (1 - meanP);
        } else {
          fn += mass * meanP;
          tn += mass * (1 - meanP);
        }
      }
    }
  }
  return { tp, fp, tn, fn, n: tp + fp + tn + fn };
}

/** Expected metrics from the expected confusion matrix; undefined where the denominator is 0. */
export function estimatePerformance(score: NumericSummary | undefined, threshold = 0.5): EstimatedMetrics {
  if (score === undefined || score.count === 0) return { n: 0 };
  const { tp, fp, tn, fn, n } = expectedConfusion(score, threshold);
  const ratio = (a: number, b: number): number | undefined => (b > 0 ? a / b : undefined);
  return {
    n: score.count,
    accuracy: ratio(tp + tn, n),
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
  };
}
