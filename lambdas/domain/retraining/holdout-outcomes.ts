/**
 * Per-row outcomes of one model on the holdout: what the validation gate's paired tests need and the
 * profile's sufficient statistics cannot give (which rows each model got right, each row's loss). The
 * definitions are those of the profile code (`addOutcome` in stats/profile-update.ts), so a metric computed
 * here over every row equals `performanceMetrics` of the holdout profile, except AUC, which is exact here
 * (the profile's comes from binned scores). Pure.
 */

import type { TaskType } from "../../../contracts/model";
import type { PerformanceMetricName } from "../../../contracts/policy";
import { LOG_EPS } from "../stats/profile-update";
import type { ScoredOutput } from "./holdout-evaluation";

/** One row as one model scored it. `valid` is false where the profile would count the row as invalid. */
export interface RowOutcome {
  readonly valid: boolean;
  /** Label as a class key (binary: "1" positive / "0" negative; multiclass: the label; regression: ""). */
  readonly labelClass: string;
  /** Predicted class key, as `labelClass`. */
  readonly predictedClass: string;
  readonly correct: boolean;
  /** Binary: P(positive); regression: the predicted value. What the agreement guardrail ranks. */
  readonly rankValue?: number;
  readonly logLoss?: number;
  readonly brier?: number;
  readonly absoluteError?: number;
  readonly squaredError?: number;
  /** Absolute percentage error; absent when the label is 0 (as the profile's MAPE). */
  readonly absolutePercentError?: number;
}

/** The labels of a holdout and how a binary task names its positive class. */
export interface HoldoutLabels {
  readonly task: TaskType;
  readonly labels: readonly (number | string)[];
  /** Binary tasks: label of the positive class (classes[1], default "1"). */
  readonly positive?: string;
}

const clampProbability = (p: number): number => Math.min(1 - LOG_EPS, Math.max(LOG_EPS, p));

/** The class key of a binary label or prediction: "1" for the positive class, as `addOutcome` decides. */
export function binaryClass(value: number | string, positive: string): "0" | "1" {
  return String(value) === positive || value === "true" ? "1" : "0";
}

/** The class key of each label (binary "0"/"1", multiclass the label, regression ""). */
export function labelClasses(holdout: HoldoutLabels): string[] {
  const positive = holdout.positive ?? "1";
  return holdout.labels.map((label) =>
    holdout.task === "binary"
      ? binaryClass(label, positive)
      : holdout.task === "multiclass"
        ? String(label)
        : "",
  );
}

function binaryOutcome(label: number | string, out: ScoredOutput, positive: string): RowOutcome {
  const labelClass = binaryClass(label, positive);
  const predictedClass = binaryClass(out.prediction, positive);
  const score = out.score;
  const validScore = score === undefined || (Number.isFinite(score) && score >= 0 && score <= 1);
  const base = { valid: validScore, labelClass, predictedClass, correct: labelClass === predictedClass };
  if (score === undefined || !validScore) return base;
  const y = labelClass === "1" ? 1 : 0;
  const clamped = clampProbability(score);
  return {
    ...base,
    rankValue: score,
    logLoss: -(y === 1 ? Math.log(clamped) : Math.log(1 - clamped)),
    brier: (score - y) ** 2,
  };
}

function multiclassOutcome(label: number | string, out: ScoredOutput): RowOutcome {
  const labelClass = String(label);
  const predictedClass = String(out.prediction);
  const probability = out.probabilities?.[labelClass];
  return {
    valid: true,
    labelClass,
    predictedClass,
    correct: labelClass === predictedClass,
    ...(probability !== undefined && Number.isFinite(probability)
      ? { logLoss: -Math.log(clampProbability(probability)) }
      : {}),
  };
}

function regressionOutcome(label: number | string, out: ScoredOutput): RowOutcome {
  const y = typeof label === "number" ? label : Number(label);
  const prediction = typeof out.prediction === "number" ? out.prediction : Number(out.prediction);
  if (!Number.isFinite(y) || !Number.isFinite(prediction)) {
    return { valid: false, labelClass: "", predictedClass: "", correct: false };
  }
  const error = prediction - y;
  return {
    valid: true,
    labelClass: "",
    predictedClass: "",
    correct: false,
    rankValue: prediction,
    absoluteError: Math.abs(error),
    squaredError: error * error,
    ...(y !== 0 ? { absolutePercentError: Math.abs(error / y) } : {}),
  };
}

/** Outcomes of one model's outputs, aligned with the holdout labels. */
export function rowOutcomes(holdout: HoldoutLabels, outputs: readonly ScoredOutput[]): RowOutcome[] {
  const positive = holdout.positive ?? "1";
  return holdout.labels.map((label, row) => {
    const out = outputs[row]!;
    if (holdout.task === "binary") return binaryOutcome(label, out, positive);
    if (holdout.task === "multiclass") return multiclassOutcome(label, out);
    return regressionOutcome(label, out);
  });
}

/** Per-row loss of a mean-loss metric, as the error metrics average it (rmse: squared error). */
export function rowLoss(metric: PerformanceMetricName, outcome: RowOutcome): number | undefined {
  switch (metric) {
    case "logLoss":
      return outcome.logLoss;
    case "brier":
      return outcome.brier;
    case "mae":
      return outcome.absoluteError;
    case "rmse":
      return outcome.squaredError;
    case "mape":
      return outcome.absolutePercentError;
    default:
      return undefined;
  }
}

const ratio = (numerator: number, denominator: number): number | undefined =>
  denominator > 0 ? numerator / denominator : undefined;

/** Exact AUC (ties count one half) from midranks of the scores of labelled rows. */
function exactAuc(scores: readonly number[], positive: readonly boolean[]): number | undefined {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]!] === scores[order[start]!]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (positive[order[k]!]) {
        positives++;
        rankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return undefined;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** F1 of each class over the listed rows (0 where undefined, as `performanceMetrics`' macro F1). */
function macroF1(outcomes: readonly RowOutcome[], rows: ArrayLike<number>): number | undefined {
  const truePositives = new Map<string, number>();
  const predicted = new Map<string, number>();
  const actual = new Map<string, number>();
  for (let k = 0; k < rows.length; k++) {
    const o = outcomes[rows[k]!]!;
    predicted.set(o.predictedClass, (predicted.get(o.predictedClass) ?? 0) + 1);
    actual.set(o.labelClass, (actual.get(o.labelClass) ?? 0) + 1);
    if (o.correct) truePositives.set(o.labelClass, (truePositives.get(o.labelClass) ?? 0) + 1);
  }
  const classes = new Set([...predicted.keys(), ...actual.keys()]);
  if (classes.size === 0) return undefined;
  let sum = 0;
  for (const c of classes) {
    sum += ratio(2 * (truePositives.get(c) ?? 0), (predicted.get(c) ?? 0) + (actual.get(c) ?? 0)) ?? 0;
  }
  return sum / classes.size;
}

/**
 * A metric of one model over the listed rows (row indices, repeats allowed: bootstrap resamples), or over
 * every valid row. Undefined where the metric's denominator is zero, as in `performanceMetrics`.
 */
export function metricOf(
  metric: PerformanceMetricName,
  outcomes: readonly RowOutcome[],
  rows?: ArrayLike<number>,
): number | undefined {
  const selected = rows ?? Array.from(outcomes.keys()).filter((row) => outcomes[row]!.valid);
  let n = 0;
  let correct = 0;
  let truePositive = 0;
  let falsePositive = 0;
  let falseNegative = 0;
  let lossSum = 0;
  let lossCount = 0;
  for (let k = 0; k < selected.length; k++) {
    const o = outcomes[selected[k]!]!;
    n++;
    if (o.correct) correct++;
    if (o.predictedClass === "1" && o.labelClass === "1") truePositive++;
    else if (o.predictedClass === "1") falsePositive++;
    else if (o.labelClass === "1") falseNegative++;
    const loss = rowLoss(metric, o);
    if (loss !== undefined) {
      lossSum += loss;
      lossCount++;
    }
  }
  switch (metric) {
    case "accuracy":
      return ratio(correct, n);
    case "precision":
      return ratio(truePositive, truePositive + falsePositive);
    case "recall":
      return ratio(truePositive, truePositive + falseNegative);
    case "f1":
      return ratio(2 * truePositive, 2 * truePositive + falsePositive + falseNegative);
    case "macroF1":
      return macroF1(outcomes, selected);
    case "auc": {
      const scored = Array.from(selected, (row) => outcomes[row]!).filter((o) => o.rankValue !== undefined);
      return exactAuc(
        scored.map((o) => o.rankValue!),
        scored.map((o) => o.labelClass === "1"),
      );
    }
    case "rmse": {
      const mse = ratio(lossSum, lossCount);
      return mse === undefined ? undefined : Math.sqrt(mse);
    }
    default:
      return ratio(lossSum, lossCount);
  }
}
