/**
 * Profile merges: counts, extremes and category counts merge associatively and commutatively bit for bit;
 * numeric sketches in value (counts, extremes exact, CDFs within their error bounds; sketch.ts); floating-
 * point sums (mean/M2, loss sums) commutatively and associatively up to rounding. Inputs are never mutated.
 */

import { mergeMoments } from "./moments";
import {
  type CategoricalSummary,
  emptyCategorical,
  emptyNumeric,
  type FeatureSummary,
  type NumericSummary,
  type PerformanceStats,
  PROFILE_VERSION,
  type Profile,
  ProfileFormatError,
} from "./profile";
import { mergeSketches, ScoreSketch } from "./sketch";
import { addCount, raiseLevel, tracked } from "./top-k";

/** Merge two numeric summaries (Chan's formula for the moments, in their scaled form: moments.ts). */
export function mergeNumeric(a: NumericSummary, b: NumericSummary): NumericSummary {
  if (a.sketch instanceof ScoreSketch !== b.sketch instanceof ScoreSketch) {
    throw new ProfileFormatError("cannot merge a score summary with a numeric feature summary");
  }
  const moments = mergeMoments(a, b);
  return {
    kind: "numeric",
    count: moments.count,
    missing: a.missing + b.missing,
    invalid: a.invalid + b.invalid,
    mean: moments.mean,
    scaledM2: moments.scaledM2,
    momentScale: moments.momentScale,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    sketch: mergeSketches(a.sketch, b.sketch),
  };
}

/** Merge two categorical summaries at the larger of their hash levels. */
export function mergeCategorical(a: CategoricalSummary, b: CategoricalSummary): CategoricalSummary {
  const out: CategoricalSummary = {
    kind: "categorical",
    count: a.count + b.count,
    missing: a.missing + b.missing,
    invalid: a.invalid + b.invalid,
    topK: Math.min(a.topK, b.topK),
    level: Math.max(a.level, b.level),
    counts: new Map(),
    other: a.other + b.other,
  };
  for (const side of [a, b]) {
    for (const [c, n] of side.counts) {
      if (tracked(c, out.level)) addCount(out.counts, c, n);
      else out.other += n;
    }
  }
  if (out.counts.size > out.topK) raiseLevel(out);
  return out;
}

/** Merge two summaries of the same kind. */
export function mergeSummaries(a: FeatureSummary, b: FeatureSummary): FeatureSummary {
  if (a.kind === "numeric" && b.kind === "numeric") return mergeNumeric(a, b);
  if (a.kind === "categorical" && b.kind === "categorical") return mergeCategorical(a, b);
  throw new ProfileFormatError(`cannot merge a ${a.kind} summary with a ${b.kind} summary`);
}

function mergeMaps(a: Map<number, number>, b: Map<number, number>): Map<number, number> {
  const out = new Map(a);
  for (const [k, n] of b) addCount(out, k, n);
  return out;
}

/** Sum of two optional sums: unknown (undefined) as soon as either side does not carry it. */
function sumIfKnown(a: number | undefined, b: number | undefined): { value?: number } {
  return a === undefined || b === undefined ? {} : { value: a + b };
}

/** Optional field `name` set to the sum of both sides when both carry it. */
function optionalSum<K extends string>(
  name: K,
  a: number | undefined,
  b: number | undefined,
): { [P in K]?: number } {
  const sum = sumIfKnown(a, b);
  return (sum.value === undefined ? {} : { [name]: sum.value }) as { [P in K]?: number };
}

/** Merge the performance statistics of two profiles of the same task. */
export function mergePerformance(a: PerformanceStats, b: PerformanceStats): PerformanceStats {
  if (a.task === "binary" && b.task === "binary") {
    return {
      task: "binary",
      positive: a.positive,
      n: a.n + b.n,
      tp: a.tp + b.tp,
      fp: a.fp + b.fp,
      tn: a.tn + b.tn,
      fn: a.fn + b.fn,
      scored: a.scored + b.scored,
      logLossSum: a.logLossSum + b.logLossSum,
      brierSum: a.brierSum + b.brierSum,
      ...optionalSum("logLossSquaredSum", a.logLossSquaredSum, b.logLossSquaredSum),
      ...optionalSum("brierSquaredSum", a.brierSquaredSum, b.brierSquaredSum),
      positiveScores: mergeMaps(a.positiveScores, b.positiveScores),
      negativeScores: mergeMaps(a.negativeScores, b.negativeScores),
      invalid: a.invalid + b.invalid,
    };
  }
  if (a.task === "multiclass" && b.task === "multiclass") {
    const confusion: Record<string, Record<string, number>> = {};
    for (const side of [a, b]) {
      for (const [label, row] of Object.entries(side.confusion)) {
        const out = confusion[label] ?? {};
        confusion[label] = out;
        for (const [pred, n] of Object.entries(row)) out[pred] = (out[pred] ?? 0) + n;
      }
    }
    return {
      task: "multiclass",
      n: a.n + b.n,
      confusion,
      probabilityN: a.probabilityN + b.probabilityN,
      logLossSum: a.logLossSum + b.logLossSum,
      ...optionalSum("logLossSquaredSum", a.logLossSquaredSum, b.logLossSquaredSum),
      invalid: a.invalid + b.invalid,
    };
  }
  if (a.task === "regression" && b.task === "regression") {
    return {
      task: "regression",
      n: a.n + b.n,
      absErrorSum: a.absErrorSum + b.absErrorSum,
      squaredErrorSum: a.squaredErrorSum + b.squaredErrorSum,
      absPercentErrorSum: a.absPercentErrorSum + b.absPercentErrorSum,
      absPercentN: a.absPercentN + b.absPercentN,
      ...optionalSum("fourthPowerErrorSum", a.fourthPowerErrorSum, b.fourthPowerErrorSum),
      ...optionalSum("absPercentErrorSquaredSum", a.absPercentErrorSquaredSum, b.absPercentErrorSquaredSum),
      invalid: a.invalid + b.invalid,
    };
  }
  throw new ProfileFormatError(`cannot merge ${a.task} and ${b.task} performance statistics`);
}

/**
 * Merge two profiles into a new one (inputs untouched). Features present on one side only are kept as is,
 * so profiles from before and after a schema change still merge.
 */
export function mergeProfiles(a: Profile, b: Profile): Profile {
  if (a.task !== b.task)
    throw new ProfileFormatError(`cannot merge a ${a.task} profile with a ${b.task} profile`);
  const features: Record<string, FeatureSummary> = {};
  const names = new Set([...Object.keys(a.features), ...Object.keys(b.features)]);
  for (const name of [...names].sort()) {
    const x = a.features[name];
    const y = b.features[name];
    features[name] = x && y ? mergeSummaries(x, y) : cloneSummary((x ?? y)!);
  }
  const out: Profile = {
    version: PROFILE_VERSION,
    task: a.task,
    count: a.count + b.count,
    labelled: a.labelled + b.labelled,
    features,
    prediction: mergeSummaries(a.prediction, b.prediction),
    performance: mergePerformance(a.performance, b.performance),
  };
  if (a.score && b.score) out.score = mergeNumeric(a.score, b.score);
  else if (a.score || b.score) out.score = cloneSummary((a.score ?? b.score)!) as NumericSummary;
  return out;
}

function cloneSummary(s: FeatureSummary): FeatureSummary {
  return s.kind === "numeric"
    ? mergeNumeric(s, emptyNumeric(s.sketch instanceof ScoreSketch))
    : mergeCategorical(s, emptyCategorical(s.topK));
}
