/**
 * Confidence-based performance estimation (CBPE, after NannyML) for binary classifiers, calibrated on the
 * baseline. A prediction with calibrated probability p of the positive class, made at decision
 * threshold t, is correct with probability p (if its score >= t) or 1 - p (if below). Summing over the
 * window's score distribution gives the expected confusion matrix, hence expected accuracy, precision,
 * recall and F1 without any label: the estimate reacts as soon as the scores move, days before labels.
 *
 * Raw scores are rarely calibrated, and the calibration error does not cancel between window and
 * baseline (it weighs each score region differently when the score distribution moves). So the scores
 * are mapped to probabilities first: an isotonic (pool-adjacent-violators) fit of the positive rate per
 * score bin on the baseline's labelled pairs, from the per-class score histograms every profile keeps
 * (bins of 1/32 in logit space). The baseline's calibration error (ECE of the raw scores, 15 equal-mass
 * groups) is reported; without enough labelled baseline scores the estimate is skipped with the reason.
 *
 * The estimate assumes covariate shift (P(y | x) unchanged): concept drift is invisible to it, which is
 * why realized performance remains in the default rule.
 */
import type { BinaryPerformance, NumericSummary } from "../stats/profile";
import { scoreBin } from "../stats/profile-update";
import { sketchPieces } from "../stats/sketch";

/** A monotone map from score bin to P(positive), fitted on labelled baseline scores. */
export interface Calibration {
  /** Score bins in increasing order and the calibrated probability from each bin up to the next. */
  readonly bins: readonly number[];
  readonly probabilities: readonly number[];
  /** Labelled scored pairs the map was fitted on. */
  readonly labelled: number;
  /** Expected calibration error of the raw scores on those pairs (15 equal-mass groups). */
  readonly rawCalibrationError: number;
  /** Distinct probability levels of the map (1 means the scores carry no information). */
  readonly levels: number;
}

/** Score at the centre of a logit bin (bins of 1/32 in logit space; the end bins are scores 0 and 1). */
function binScore(bin: number): number {
  const logit = (bin + 0.5) / 32;
  if (bin >= 12 * 32) return 1;
  if (bin <= -12 * 32 - 1) return 0;
  return 1 / (1 + Math.exp(-logit));
}

/** Weighted pool-adjacent-violators: the non-decreasing fit of `values` with `weights`. */
export function isotonic(values: readonly number[], weights: readonly number[]): number[] {
  const blocks: Array<{ value: number; weight: number; size: number }> = [];
  for (let i = 0; i < values.length; i++) {
    blocks.push({ value: values[i]!, weight: weights[i]!, size: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2]!.value > blocks[blocks.length - 1]!.value) {
      const last = blocks.pop()!;
      const previous = blocks.pop()!;
      const weight = previous.weight + last.weight;
      blocks.push({
        value:
          weight > 0 ? (previous.value * previous.weight + last.value * last.weight) / weight : last.value,
        weight,
        size: previous.size + last.size,
      });
    }
  }
  return blocks.flatMap((block) => Array.from({ length: block.size }, () => block.value));
}

/** Expected calibration error of the raw scores: |mean score - positive rate| over 15 equal-mass groups of bins. */
function rawCalibrationError(
  bins: readonly number[],
  positives: readonly number[],
  totals: readonly number[],
): number {
  const all = totals.reduce((a, b) => a + b, 0);
  if (all === 0) return 0;
  const groupSize = all / 15;
  let error = 0;
  let total = 0;
  let positive = 0;
  let scoreSum = 0;
  for (let i = 0; i < bins.length; i++) {
    total += totals[i]!;
    positive += positives[i]!;
    scoreSum += totals[i]! * binScore(bins[i]!);
    if (total >= groupSize || i === bins.length - 1) {
      if (total > 0) error += (total / all) * Math.abs(scoreSum / total - positive / total);
      total = 0;
      positive = 0;
      scoreSum = 0;
    }
  }
  return error;
}

/** The calibration map of a baseline's labelled scores; undefined when it holds none. */
export function calibrate(performance: BinaryPerformance): Calibration | undefined {
  const bins = [
    ...new Set([...performance.positiveScores.keys(), ...performance.negativeScores.keys()]),
  ].sort((a, b) => a - b);
  if (bins.length === 0) return undefined;
  const positives = bins.map((b) => performance.positiveScores.get(b) ?? 0);
  const totals = bins.map((b, i) => positives[i]! + (performance.negativeScores.get(b) ?? 0));
  const rates = bins.map((_, i) => (totals[i]! > 0 ? positives[i]! / totals[i]! : 0));
  const probabilities = isotonic(rates, totals);
  return {
    bins,
    probabilities,
    labelled: totals.reduce((a, b) => a + b, 0),
    rawCalibrationError: rawCalibrationError(bins, positives, totals),
    levels: new Set(probabilities).size,
  };
}

/** Calibrated P(positive) of a score: the map's value for the score's bin (the nearest fitted bin below, else the first). */
export function calibratedProbability(calibration: Calibration, score: number): number {
  const bin = scoreBin(score);
  const { bins, probabilities } = calibration;
  let lo = 0;
  let hi = bins.length - 1;
  if (bin <= bins[0]!) return probabilities[0]!;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bins[mid]! <= bin) lo = mid;
    else hi = mid - 1;
  }
  return probabilities[lo]!;
}

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
  /** The expected confusion matrix the metrics come from. */
  readonly confusion?: ExpectedConfusion;
}

/**
 * Expected confusion matrix of the scores in `score` at decision threshold `threshold`, each score mapped
 * through `calibration` (the raw score when none is given). Each sketch piece is split at the threshold
 * when it straddles it (uniform mass within a piece).
 */
export function expectedConfusion(
  score: NumericSummary,
  threshold = 0.5,
  calibration?: Calibration,
): ExpectedConfusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  const probability = (s: number) => (calibration === undefined ? s : calibratedProbability(calibration, s));
  if (score.count > 0) {
    for (const piece of sketchPieces(score.sketch)) {
      const lo = Math.min(1, Math.max(0, piece.lo));
      const hi = Math.min(1, Math.max(0, piece.hi));
      const parts: Array<[number, number, number]> =
        lo < threshold && hi > threshold
          ? [
              [lo, threshold, (piece.mass * (threshold - lo)) / (hi - lo)],
              [threshold, hi, (piece.mass * (hi - threshold)) / (hi - lo)],
            ]
          : [[lo, hi, piece.mass]];
      for (const [a, b, mass] of parts) {
        const p = probability((a + b) / 2);
        if (a >= threshold) {
          tp += mass * p;
          fp += mass * (1 - p);
        } else {
          fn += mass * p;
          tn += mass * (1 - p);
        }
      }
    }
  }
  return { tp, fp, tn, fn, n: tp + fp + tn + fn };
}

/** Expected metrics from the expected confusion matrix; undefined where the denominator is 0. */
export function estimatePerformance(
  score: NumericSummary | undefined,
  threshold = 0.5,
  calibration?: Calibration,
): EstimatedMetrics {
  if (score === undefined || score.count === 0) return { n: 0 };
  const confusion = expectedConfusion(score, threshold, calibration);
  const { tp, fp, tn, fn, n } = confusion;
  const ratio = (a: number, b: number): number | undefined => (b > 0 ? a / b : undefined);
  return {
    n: score.count,
    accuracy: ratio(tp + tn, n),
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    confusion,
  };
}
