/**
 * Profile merges: counts, extremes and category counts merge associatively and commutatively bit for bit;
 * numeric sketches in value (counts, extremes exact, CDFs within their error bounds; sketch.ts); floating-
 * point sums (mean/M2, loss sums) commutatively and associatively up to rounding. Inputs are never mutated.
 */

import { type Moments, mergeMoments } from "./moments";
import {
  type BinaryPerformance,
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
import { mergeAllSketches, mergeSketches, ScoreSketch } from "./sketch";
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

/**
 * Merge many numeric summaries of one kind (a window of buckets): the moments folded left to right as
 * pairwise merges fold them (the same floating-point results), the sketches merged at once
 * (`mergeAllSketches`: one compaction instead of one per input, with the same bound).
 */
export function mergeNumericList(list: readonly NumericSummary[]): NumericSummary {
  const first = list[0];
  if (first === undefined) throw new RangeError("mergeNumericList needs at least one summary");
  const scores = first.sketch instanceof ScoreSketch;
  let moments: Moments = first;
  let missing = first.missing;
  let invalid = first.invalid;
  let min = first.min;
  let max = first.max;
  for (let i = 1; i < list.length; i++) {
    const s = list[i]!;
    if (s.sketch instanceof ScoreSketch !== scores)
      throw new ProfileFormatError("cannot merge a score summary with a numeric feature summary");
    moments = mergeMoments(moments, s);
    missing += s.missing;
    invalid += s.invalid;
    min = Math.min(min, s.min);
    max = Math.max(max, s.max);
  }
  return {
    kind: "numeric",
    count: moments.count,
    missing,
    invalid,
    mean: moments.mean,
    scaledM2: moments.scaledM2,
    momentScale: moments.momentScale,
    min,
    max,
    sketch:
      list.length === 1
        ? mergeSketches(first.sketch, emptyNumeric(scores).sketch)
        : mergeAllSketches(list.map((s) => s.sketch)),
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

/** A copy of a histogram, in the same order (`new Map(m)` goes through an entry array per bin). */
function copyCounts(m: ReadonlyMap<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  m.forEach((n, k) => {
    out.set(k, n);
  });
  return out;
}

/** Merge the performance statistics of two profiles of the same task. */
export function mergePerformance(a: PerformanceStats, b: PerformanceStats): PerformanceStats {
  if (a.task === "binary" && b.task === "binary") {
    const out: BinaryPerformance = {
      ...a,
      positiveScores: copyCounts(a.positiveScores),
      negativeScores: copyCounts(a.negativeScores),
    };
    addBinaryInto(out, b);
    return out;
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
 * Merge the performance statistics of many buckets (oldest first) into a new object: the left fold of
 * `mergePerformance` (the same sums, added in the same order). Binary statistics are added into one
 * accumulator, so their score histograms are not copied at every step.
 */
export function mergePerformanceList(list: readonly PerformanceStats[]): PerformanceStats {
  const first = list[0];
  if (first === undefined) throw new RangeError("mergePerformanceList needs at least one input");
  if (list.length === 1) return structuredClone(first);
  const acc = mergePerformance(first, list[1]!);
  if (acc.task !== "binary") return list.slice(2).reduce((a, b) => mergePerformance(a, b), acc);
  for (let i = 2; i < list.length; i++) {
    const b = list[i]!;
    if (b.task !== "binary")
      throw new ProfileFormatError(`cannot merge binary and ${b.task} performance statistics`);
    addBinaryInto(acc, b);
  }
  return acc;
}

/**
 * `acc` += `b`, in place (`acc` owns its histograms). An optional sum is kept only while both sides carry
 * it (statistics written before it existed leave it unknown).
 */
function addBinaryInto(acc: BinaryPerformance, b: BinaryPerformance): void {
  acc.n += b.n;
  acc.tp += b.tp;
  acc.fp += b.fp;
  acc.tn += b.tn;
  acc.fn += b.fn;
  acc.scored += b.scored;
  acc.logLossSum += b.logLossSum;
  acc.brierSum += b.brierSum;
  if (acc.logLossSquaredSum === undefined || b.logLossSquaredSum === undefined) delete acc.logLossSquaredSum;
  else acc.logLossSquaredSum += b.logLossSquaredSum;
  if (acc.brierSquaredSum === undefined || b.brierSquaredSum === undefined) delete acc.brierSquaredSum;
  else acc.brierSquaredSum += b.brierSquaredSum;
  // forEach, not for-of: no entry array per histogram bin (this runs for every bucket of every batch).
  const { positiveScores, negativeScores } = acc;
  b.positiveScores.forEach((n, k) => {
    addCount(positiveScores, k, n);
  });
  b.negativeScores.forEach((n, k) => {
    addCount(negativeScores, k, n);
  });
  acc.invalid += b.invalid;
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

/**
 * Merge many profiles of one task (a window of buckets, oldest first) into a new one, inputs untouched:
 * counts, categories, moments and performance as the left fold of `mergeProfiles` gives them, the numeric
 * sketches merged at once (`mergeNumericList`). Features present in some inputs only are merged over those.
 */
export function mergeProfileList(list: readonly Profile[]): Profile {
  const first = list[0];
  if (first === undefined) throw new RangeError("mergeProfileList needs at least one profile");
  const byName = new Map<string, FeatureSummary[]>();
  let count = 0;
  let labelled = 0;
  const performances: PerformanceStats[] = [];
  const scores: NumericSummary[] = [];
  for (const p of list) {
    if (p.task !== first.task)
      throw new ProfileFormatError(`cannot merge a ${first.task} profile with a ${p.task} profile`);
    count += p.count;
    labelled += p.labelled;
    performances.push(p.performance);
    for (const [name, summary] of Object.entries(p.features)) {
      const same = byName.get(name);
      if (same) same.push(summary);
      else byName.set(name, [summary]);
    }
    if (p.score) scores.push(p.score);
  }
  const features: Record<string, FeatureSummary> = {};
  for (const name of [...byName.keys()].sort()) features[name] = mergeSummaryList(byName.get(name)!);
  const out: Profile = {
    version: PROFILE_VERSION,
    task: first.task,
    count,
    labelled,
    features,
    prediction: mergeSummaryList(list.map((p) => p.prediction)),
    performance: mergePerformanceList(performances),
  };
  if (scores.length > 0) out.score = mergeNumericList(scores);
  return out;
}

/** Merge many summaries of one kind (numeric: `mergeNumericList`; categorical: a left fold). */
function mergeSummaryList(list: readonly FeatureSummary[]): FeatureSummary {
  const first = list[0]!;
  if (first.kind === "numeric") {
    return mergeNumericList(
      list.map((s) => {
        if (s.kind !== "numeric")
          throw new ProfileFormatError(`cannot merge a numeric summary with a ${s.kind} summary`);
        return s;
      }),
    );
  }
  if (list.length === 1) return cloneSummary(first);
  return list.reduce((a, b) => mergeSummaries(a, b));
}

function cloneSummary(s: FeatureSummary): FeatureSummary {
  return s.kind === "numeric"
    ? mergeNumeric(s, emptyNumeric(s.sketch instanceof ScoreSketch))
    : mergeCategorical(s, emptyCategorical(s.topK));
}
