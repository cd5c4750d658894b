/**
 * Profiles: mergeable summaries of a set of prediction (and outcome) events. The ingest Lambda builds one
 * per model, time bucket and shard; the evaluator merges the buckets of a window and compares the result
 * with a baseline. This module holds the types and the empty profile; updates live in profile-update.ts,
 * merges in profile-merge.ts, the serialized form in profile-codec.ts, the numeric sketch in sketch.ts and
 * the categorical top-K in top-k.ts.
 */

import type { FeatureValue } from "../../../contracts/events";
import type { ProfileSpec, TaskType } from "../../../contracts/model";
import { emptyScoreSketch, emptySketch, type Sketch } from "./sketch";

/**
 * Current serialization format version; bumped on any incompatible change. Version 3 replaced the numeric
 * sketch (a floating-point grid) by the bounded dyadic trie of sketch.ts and the moments by their scaled form
 * (moments.ts); versions 1 and 2 are still read (profile-codec.ts).
 */
export const PROFILE_VERSION = 3;

/** Default number of categories per categorical feature whose counts are kept exactly. */
export const DEFAULT_TOP_K = 100;

/**
 * Summary of a numeric feature (or of the scores): moments, extremes and a mergeable sketch whose CDF error
 * has a data-independent bound (`errorBound` in sketch.ts).
 */
export interface NumericSummary {
  kind: "numeric";
  /** Non-missing, finite values. */
  count: number;
  /**
   * Missing values: null, absent, NaN, +-Infinity or a non-number (those also count as `invalid`); for the
   * score summary also a score outside [0, 1].
   */
  missing: number;
  /** Subset of `missing` that was present but unusable (NaN, Infinity, wrong type, score out of range). */
  invalid: number;
  /** Mean of the values (Welford/Chan; finite for any finite values, see moments.ts). */
  mean: number;
  /**
   * Sum of squared deviations from the mean divided by 4^momentScale, so that it stays finite for any
   * finite values (moments.ts); read the spread with `standardDeviation` rather than from this field.
   */
  scaledM2: number;
  /** Power-of-two exponent of the moments' scaling: 0 unless some |value| >= 2^400 (moments.ts). */
  momentScale: number;
  /** Smallest and largest value; +Infinity / -Infinity when `count` is 0. */
  min: number;
  max: number;
  /** A `NumericSketch` for features and regression predictions, a `ScoreSketch` for scores. */
  sketch: Sketch;
}

/**
 * Summary of a categorical feature. Counts are exact for every tracked category. At most `topK` categories
 * are tracked: when a feature has more, the tracked set is cut down by a hash level (a category is kept if
 * the low `level` bits of its hash are zero), so the tracked set depends only on the set of categories seen
 * and merge stays exactly associative. Untracked categories are pooled in `other`.
 */
export interface CategoricalSummary {
  kind: "categorical";
  count: number;
  missing: number;
  invalid: number;
  topK: number;
  level: number;
  counts: Map<string, number>;
  other: number;
}

export type FeatureSummary = NumericSummary | CategoricalSummary;

/** Binary classification sufficient statistics. */
export interface BinaryPerformance {
  task: "binary";
  /** Label of the positive class. */
  positive: string;
  n: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** Outcomes with a valid score; the denominators of log loss and Brier. */
  scored: number;
  logLossSum: number;
  brierSum: number;
  /**
   * Sums of squared per-outcome log loss and Brier score (standard errors). Absent in profiles of format
   * version 1, whose standard errors are then unknown.
   */
  logLossSquaredSum?: number;
  brierSquaredSum?: number;
  /** Histograms of logit(score) in bins of width 1/32, per true class (for AUC). */
  positiveScores: Map<number, number>;
  negativeScores: Map<number, number>;
  /** Outcomes that could not be used (e.g. a non-finite score or label). */
  invalid: number;
}

/** Multiclass sufficient statistics: the confusion matrix, and log loss when probabilities are given. */
export interface MulticlassPerformance {
  task: "multiclass";
  n: number;
  /** confusion[label][prediction] = count. */
  confusion: Record<string, Record<string, number>>;
  probabilityN: number;
  logLossSum: number;
  /** Sum of squared per-outcome log loss (absent in format version 1). */
  logLossSquaredSum?: number;
  invalid: number;
}

/** Regression sufficient statistics. */
export interface RegressionPerformance {
  task: "regression";
  n: number;
  absErrorSum: number;
  squaredErrorSum: number;
  /** Sum of |error / label| over labels != 0, and how many such labels. */
  absPercentErrorSum: number;
  absPercentN: number;
  /** Sums of error^4 and of squared |error / label| (standard errors of RMSE and MAPE; absent in format version 1). */
  fourthPowerErrorSum?: number;
  absPercentErrorSquaredSum?: number;
  invalid: number;
}

export type PerformanceStats = BinaryPerformance | MulticlassPerformance | RegressionPerformance;

export interface Profile {
  readonly version: number;
  task: TaskType;
  /** Prediction events profiled. */
  count: number;
  /** Labelled (prediction, label) pairs in `performance`. */
  labelled: number;
  features: Record<string, FeatureSummary>;
  prediction: FeatureSummary;
  /** Distribution of scores (classification tasks). */
  score?: NumericSummary;
  performance: PerformanceStats;
}

/** A prediction as seen by the profile. */
export interface ProfiledPrediction {
  features: Readonly<Record<string, FeatureValue>>;
  prediction: number | string;
  score?: number;
}

/** A (prediction, label) pair; `probabilities` (class -> P) enables multiclass log loss. */
export interface ProfiledOutcome {
  prediction: number | string;
  score?: number;
  label: number | string;
  probabilities?: Readonly<Record<string, number>>;
}

/** Raised by `deserializeProfile` on anything that is not a valid serialized profile. */
export class ProfileFormatError extends Error {
  override name = "ProfileFormatError";
}

/** An empty numeric summary; `scores` gives it a score sketch (equal resolution near 0 and near 1). */
export function emptyNumeric(scores = false): NumericSummary {
  return {
    kind: "numeric",
    count: 0,
    missing: 0,
    invalid: 0,
    mean: 0,
    scaledM2: 0,
    momentScale: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    sketch: scores ? emptyScoreSketch() : emptySketch(),
  };
}

export function emptyCategorical(topK = DEFAULT_TOP_K): CategoricalSummary {
  return {
    kind: "categorical",
    count: 0,
    missing: 0,
    invalid: 0,
    topK,
    level: 0,
    counts: new Map(),
    other: 0,
  };
}

function emptyPerformance(spec: ProfileSpec): PerformanceStats {
  switch (spec.task) {
    case "binary":
      return {
        task: "binary",
        positive: spec.classes?.[1] ?? "1",
        n: 0,
        tp: 0,
        fp: 0,
        tn: 0,
        fn: 0,
        scored: 0,
        logLossSum: 0,
        brierSum: 0,
        logLossSquaredSum: 0,
        brierSquaredSum: 0,
        positiveScores: new Map(),
        negativeScores: new Map(),
        invalid: 0,
      };
    case "multiclass":
      return {
        task: "multiclass",
        n: 0,
        confusion: {},
        probabilityN: 0,
        logLossSum: 0,
        logLossSquaredSum: 0,
        invalid: 0,
      };
    case "regression":
      return {
        task: "regression",
        n: 0,
        absErrorSum: 0,
        squaredErrorSum: 0,
        absPercentErrorSum: 0,
        absPercentN: 0,
        fourthPowerErrorSum: 0,
        absPercentErrorSquaredSum: 0,
        invalid: 0,
      };
  }
}

/** A new, empty profile for a model's schema. */
export function emptyProfile(spec: ProfileSpec): Profile {
  const topK = spec.topK ?? DEFAULT_TOP_K;
  const features: Record<string, FeatureSummary> = {};
  for (const [name, kind] of Object.entries(spec.features)) {
    features[name] = kind === "numeric" ? emptyNumeric() : emptyCategorical(topK);
  }
  const profile: Profile = {
    version: PROFILE_VERSION,
    task: spec.task,
    count: 0,
    labelled: 0,
    features,
    prediction: spec.task === "regression" ? emptyNumeric() : emptyCategorical(topK),
    performance: emptyPerformance(spec),
  };
  if (spec.task !== "regression") profile.score = emptyNumeric(true);
  return profile;
}

/** Share of missing values (including invalid ones) among all values seen. 0 when nothing was seen. */
export function missingRate(s: FeatureSummary): number {
  const total = s.count + s.missing;
  return total === 0 ? 0 : s.missing / total;
}
