/**
 * Profiles: mergeable summaries of a set of prediction (and outcome) events. The ingest Lambda builds one
 * per model, time bucket and shard; the evaluator merges the buckets of a window and compares the result
 * with a baseline. Everything here is pure and exactly mergeable: counts, min/max, sketches and category
 * counts merge associatively and commutatively bit for bit; floating-point sums (mean/M2, loss sums) merge
 * in a commutative way and associatively up to rounding (relative 1e-12).
 */

import type { ProfileSpec, TaskType } from "../../contracts/model";
import type { FeatureValue } from "./events";
import {
  CellTable,
  DEFAULT_CAPACITY,
  emptySketch,
  MAX_LEVEL,
  mergeSketches,
  type Sketch,
  sketchAdd,
  sketchAddAll,
  sketchCount,
} from "./sketch";

/** Current serialization format version; bumped on any incompatible change. */
export const PROFILE_VERSION = 1;

/** Default number of categories per categorical feature whose counts are kept exactly. */
export const DEFAULT_TOP_K = 100;

/** Summary of a numeric feature: moments, extremes and a canonical mergeable sketch. */
export interface NumericSummary {
  kind: "numeric";
  /** Non-missing, finite values. */
  count: number;
  /** Missing values: null, absent, NaN, +-Infinity or a non-number (those also count as `invalid`). */
  missing: number;
  /** Subset of `missing` that was present but unusable (NaN, Infinity, wrong type). */
  invalid: number;
  mean: number;
  /** Sum of squared deviations from the mean (Welford/Chan). */
  m2: number;
  /** Smallest and largest value; +Infinity / -Infinity when `count` is 0. */
  min: number;
  max: number;
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

export function emptyNumeric(capacity = DEFAULT_CAPACITY): NumericSummary {
  return {
    kind: "numeric",
    count: 0,
    missing: 0,
    invalid: 0,
    mean: 0,
    m2: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    sketch: emptySketch(capacity),
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
        positiveScores: new Map(),
        negativeScores: new Map(),
        invalid: 0,
      };
    case "multiclass":
      return { task: "multiclass", n: 0, confusion: {}, probabilityN: 0, logLossSum: 0, invalid: 0 };
    case "regression":
      return {
        task: "regression",
        n: 0,
        absErrorSum: 0,
        squaredErrorSum: 0,
        absPercentErrorSum: 0,
        absPercentN: 0,
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
  if (spec.task !== "regression") profile.score = emptyNumeric();
  return profile;
}

/** Add one value to a numeric summary (Welford update + sketch). Non-finite values count as invalid. */
export function addNumeric(s: NumericSummary, v: unknown): void {
  if (typeof v === "number" && v - v === 0) {
    const n = ++s.count;
    const delta = v - s.mean;
    s.mean += delta / n;
    s.m2 += delta * (v - s.mean);
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    sketchAdd(s.sketch, v);
  } else {
    s.missing++;
    if (v !== null && v !== undefined) s.invalid++;
  }
}

/** FNV-1a 32-bit hash of a string: decides which categories stay tracked beyond `topK`. */
export function categoryHash(c: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < c.length; i++) {
    h ^= c.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function tracked(c: string, level: number): boolean {
  return level === 0 || (categoryHash(c) & ((1 << level) - 1)) === 0;
}

function addCategory(s: CategoricalSummary, c: string, count: number): void {
  const prev = s.counts.get(c);
  if (prev !== undefined) {
    s.counts.set(c, prev + count);
  } else if (tracked(c, s.level)) {
    s.counts.set(c, count);
    if (s.counts.size > s.topK) raiseLevel(s);
  } else {
    s.other += count;
  }
}

function raiseLevel(s: CategoricalSummary, atLeast = s.level): void {
  let level = Math.max(s.level, atLeast);
  const prune = (): void => {
    for (const [c, n] of s.counts) {
      if (!tracked(c, level)) {
        s.counts.delete(c);
        s.other += n;
      }
    }
  };
  prune();
  while (s.counts.size > s.topK && level < 31) {
    level++;
    prune();
  }
  s.level = level;
}

/** Add one value to a categorical summary: strings as is, booleans as "true"/"false", numbers as text. */
export function addCategorical(s: CategoricalSummary, v: unknown): void {
  let c: string;
  if (typeof v === "string") c = v;
  else if (typeof v === "boolean") c = v ? "true" : "false";
  else if (typeof v === "number" && v - v === 0) c = String(v);
  else {
    s.missing++;
    if (v !== null && v !== undefined) s.invalid++;
    return;
  }
  s.count++;
  addCategory(s, c, 1);
}

function addSummary(s: FeatureSummary, v: unknown): void {
  if (s.kind === "numeric") addNumeric(s, v);
  else addCategorical(s, v);
}

/** Number of features per profile `features` object; a profile's feature set is fixed when it is created. */
const featureCounts = new WeakMap<Record<string, FeatureSummary>, number>();

function featureCount(features: Record<string, FeatureSummary>): number {
  let n = featureCounts.get(features);
  if (n === undefined) {
    n = Object.keys(features).length;
    featureCounts.set(features, n);
  }
  return n;
}

/**
 * Profile one prediction event (mutates `p`; the ingest hot path). It walks the event's own keys, which is
 * several times faster than looking every schema feature up in the event; absent features are then counted
 * as missing in a second pass that only runs when some are absent. Features not in the schema are ignored.
 */
export function addPrediction(p: Profile, e: ProfiledPrediction): void {
  p.count++;
  const values = e.features;
  const features = p.features;
  let seen = 0;
  for (const name in values) {
    const s = features[name];
    if (s === undefined) continue;
    if (s.kind === "numeric") addNumeric(s, values[name]);
    else if (s.kind === "categorical") addCategorical(s, values[name]);
    else continue;
    seen++;
  }
  if (seen < featureCount(features)) {
    for (const name in features) if (!Object.hasOwn(values, name)) features[name]!.missing++;
  }
  addSummary(p.prediction, e.prediction);
  if (p.score !== undefined) {
    if (e.score === undefined) p.score.missing++;
    else addNumeric(p.score, e.score);
  }
}

/**
 * Feature values of many predictions, row by row (the ingest's batch columns, feature-columns.ts): numeric
 * values as float64 (NaN: missing), categorical values as codes into `categories` (-1: missing).
 */
export interface FeatureRows {
  readonly numericNames: readonly string[];
  readonly categoricalNames: readonly string[];
  /** Row-major, `numericNames.length` values per row. */
  readonly numeric: Float64Array;
  /** Row-major, `categoricalNames.length` codes per row. */
  readonly codes: Int32Array;
  /** Per categorical feature, code -> category. */
  readonly categories: ReadonlyArray<readonly string[]>;
}

/** A profile's summary of a feature (own keys only: a feature may be called `constructor`). */
function ownSummary(features: Record<string, FeatureSummary>, name: string): FeatureSummary | undefined {
  return Object.hasOwn(features, name) ? features[name] : undefined;
}

/** A prediction whose feature values are row `row` of a `FeatureRows`. */
export interface RowPrediction {
  readonly row: number;
  readonly prediction: number | string;
  readonly score?: number;
}

/**
 * Profile predictions whose features are rows of `rows` (mutates `p`): the same result, byte for byte, as
 * `addPrediction` on each event in order with the same feature values. Column by column: per numeric feature
 * one pass runs the Welford update in event order and the column goes into the sketch at once
 * (`sketchAddAll`); per categorical feature the codes are counted and each category is added once with its
 * count (category summaries depend only on the counts, not the order). The ingest builds each (model,
 * bucket) group's profile with it. Profile features absent from `rows` count as missing.
 */
export function addPredictionRows(
  p: Profile,
  rows: FeatureRows,
  predictions: readonly RowPrediction[],
): void {
  const n = predictions.length;
  if (n === 0) return;
  const features = p.features;
  p.count += n;
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = predictions[i]!.row;

  const width = rows.numericNames.length;
  const numeric = rows.numeric;
  const column = new Float64Array(n);
  let matched = 0;
  for (let k = 0; k < width; k++) {
    const s = ownSummary(features, rows.numericNames[k]!);
    if (s === undefined) continue;
    matched++;
    if (s.kind !== "numeric")
      throw new TypeError(`feature ${rows.numericNames[k]} is not numeric in the profile`);
    let count = s.count;
    let mean = s.mean;
    let m2 = s.m2;
    let min = s.min;
    let max = s.max;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = numeric[index[i]! * width + k]!;
      if (Number.isNaN(v)) continue; // missing
      const delta = v - mean;
      mean += delta / ++count;
      m2 += delta * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
      column[m++] = v;
    }
    s.missing += n - m;
    s.count = count;
    s.mean = mean;
    s.m2 = m2;
    s.min = min;
    s.max = max;
    sketchAddAll(s.sketch, column, 0, m);
  }

  const catWidth = rows.categoricalNames.length;
  const codes = rows.codes;
  for (let j = 0; j < catWidth; j++) {
    const s = ownSummary(features, rows.categoricalNames[j]!);
    if (s === undefined) continue;
    matched++;
    if (s.kind !== "categorical")
      throw new TypeError(`feature ${rows.categoricalNames[j]} is not categorical in the profile`);
    const categories = rows.categories[j]!;
    const counts = new Int32Array(categories.length);
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const code = codes[index[i]! * catWidth + j]!;
      if (code < 0) missing++;
      else counts[code]!++;
    }
    s.missing += missing;
    for (let code = 0; code < counts.length; code++) {
      const c = counts[code]!;
      if (c === 0) continue;
      s.count += c;
      addCategory(s, categories[code]!, c);
    }
  }

  if (matched < featureCount(features)) {
    const inRows = new Set([...rows.numericNames, ...rows.categoricalNames]);
    for (const name in features) if (!inRows.has(name)) features[name]!.missing += n;
  }
  const prediction = p.prediction;
  const score = p.score;
  for (let i = 0; i < n; i++) {
    const e = predictions[i]!;
    addSummary(prediction, e.prediction);
    if (score !== undefined) {
      if (e.score === undefined) score.missing++;
      else addNumeric(score, e.score);
    }
  }
}

const LOG_EPS = 1e-15;
/** Score histogram resolution: bins of 1/32 in logit space, clamped to [-12, 12] plus two end bins. */
const LOGIT_BINS_PER_UNIT = 32;
const LOGIT_LIMIT_BIN = 12 * LOGIT_BINS_PER_UNIT;

/** Histogram bin of a score in [0, 1]: monotone in the score, fine near 0 and 1 where confident models live. */
export function scoreBin(score: number): number {
  if (score <= 0) return -LOGIT_LIMIT_BIN - 1;
  if (score >= 1) return LOGIT_LIMIT_BIN;
  const bin = Math.floor(Math.log(score / (1 - score)) * LOGIT_BINS_PER_UNIT);
  return Math.max(-LOGIT_LIMIT_BIN - 1, Math.min(LOGIT_LIMIT_BIN, bin));
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && v - v === 0;
}

function increment<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Add one labelled outcome to the performance statistics (mutates `p`). */
export function addOutcome(p: Profile, o: ProfiledOutcome): void {
  const perf = p.performance;
  switch (perf.task) {
    case "binary": {
      const y = String(o.label) === perf.positive || o.label === "true";
      const yhat = String(o.prediction) === perf.positive || o.prediction === "true";
      if (o.score !== undefined && !(isFiniteNumber(o.score) && o.score >= 0 && o.score <= 1)) {
        perf.invalid++;
        return;
      }
      perf.n++;
      if (y && yhat) perf.tp++;
      else if (!y && yhat) perf.fp++;
      else if (y && !yhat) perf.fn++;
      else perf.tn++;
      if (o.score !== undefined) {
        const s = o.score;
        const clamped = Math.min(1 - LOG_EPS, Math.max(LOG_EPS, s));
        perf.scored++;
        perf.logLossSum -= y ? Math.log(clamped) : Math.log(1 - clamped);
        perf.brierSum += (s - (y ? 1 : 0)) ** 2;
        increment(y ? perf.positiveScores : perf.negativeScores, scoreBin(s));
      }
      break;
    }
    case "multiclass": {
      const label = String(o.label);
      const row = perf.confusion[label] ?? {};
      perf.confusion[label] = row;
      const pred = String(o.prediction);
      row[pred] = (row[pred] ?? 0) + 1;
      perf.n++;
      const prob = o.probabilities?.[label];
      if (o.probabilities !== undefined && isFiniteNumber(prob)) {
        perf.probabilityN++;
        perf.logLossSum -= Math.log(Math.min(1 - LOG_EPS, Math.max(LOG_EPS, prob)));
      }
      break;
    }
    case "regression": {
      const y = typeof o.label === "number" ? o.label : Number(o.label);
      const yhat = typeof o.prediction === "number" ? o.prediction : Number(o.prediction);
      if (!isFiniteNumber(y) || !isFiniteNumber(yhat)) {
        perf.invalid++;
        return;
      }
      const err = yhat - y;
      perf.n++;
      perf.absErrorSum += Math.abs(err);
      perf.squaredErrorSum += err * err;
      if (y !== 0) {
        perf.absPercentErrorSum += Math.abs(err / y);
        perf.absPercentN++;
      }
      break;
    }
  }
  p.labelled++;
}

/** Share of missing values (including invalid ones) among all values seen. 0 when nothing was seen. */
export function missingRate(s: FeatureSummary): number {
  const total = s.count + s.missing;
  return total === 0 ? 0 : s.missing / total;
}

export function mergeNumeric(a: NumericSummary, b: NumericSummary): NumericSummary {
  const n = a.count + b.count;
  const delta = b.mean - a.mean;
  return {
    kind: "numeric",
    count: n,
    missing: a.missing + b.missing,
    invalid: a.invalid + b.invalid,
    mean: n === 0 ? 0 : (a.count * a.mean + b.count * b.mean) / n,
    m2: n === 0 ? 0 : a.m2 + b.m2 + (delta * delta * a.count * b.count) / n,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    sketch: mergeSketches(a.sketch, b.sketch),
  };
}

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
      if (tracked(c, out.level)) increment(out.counts, c, n);
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
  for (const [k, n] of b) increment(out, k, n);
  return out;
}

function mergePerformance(a: PerformanceStats, b: PerformanceStats): PerformanceStats {
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
    ? mergeNumeric(s, emptyNumeric(s.sketch.capacity))
    : mergeCategorical(s, emptyCategorical(s.topK));
}

// ---------------------------------------------------------------------------------------------------------
// Serialization: JSON with sketches and score histograms as base64 varint blobs.

class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  /** Unsigned varint for non-negative integers up to 2^53. */
  uvarint(v: number): void {
    this.ensure(8);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
  }
  svarint(v: number): void {
    this.uvarint(v < 0 ? -2 * v - 1 : 2 * v);
  }
  f64(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, true);
    this.len += 8;
  }
  base64(): string {
    return Buffer.from(this.buf.subarray(0, this.len)).toString("base64");
  }
}

class ByteReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new ProfileFormatError("truncated varint in binary blob");
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
    }
    throw new ProfileFormatError("varint too long in binary blob");
  }
  svarint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new ProfileFormatError("truncated float in binary blob");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}

function encodeSketch(s: Sketch): string {
  const w = new ByteWriter();
  // Keys sorted in a typed array (keys are distinct: same order as sorting [key, count] pairs by key).
  const keys = s.level === 0 ? new Float64Array(s.cells.size) : new Int32Array(s.cells.size);
  let i = 0;
  s.cells.forEach((key) => {
    keys[i++] = key;
  });
  keys.sort();
  if (s.level === 0) {
    for (const value of keys) {
      w.f64(value);
      w.uvarint(s.cells.get(value)!);
    }
  } else {
    const shift = s.level - 1;
    let prev = 0;
    for (const key of keys) {
      const code = key >> shift;
      w.svarint(code - prev);
      w.uvarint(s.cells.get(key)!);
      prev = code;
    }
  }
  return w.base64();
}

function decodeBlob(b64: unknown, where: string): ByteReader {
  if (typeof b64 !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new ProfileFormatError(`${where}: expected a base64 string`);
  }
  return new ByteReader(new Uint8Array(Buffer.from(b64, "base64")));
}

function decodeSketch(b64: unknown, level: number, capacity: number, where: string): Sketch {
  const r = decodeBlob(b64, where);
  const s: Sketch = { level, capacity, cells: new CellTable() };
  // Cells are written in strictly increasing order (values at level 0, codes above); anything else is
  // not a canonical sketch, and accepting it would give a profile whose round trip is not the identity.
  let prev = 0;
  let last = Number.NEGATIVE_INFINITY;
  while (!r.done) {
    let key: number;
    let order: number;
    if (level === 0) {
      key = r.f64();
      if (!Number.isFinite(key)) throw new ProfileFormatError(`${where}: non-finite sketch value`);
      order = key;
    } else {
      prev += r.svarint();
      key = (prev << (level - 1)) | 0;
      order = prev;
    }
    if (!(order > last) || Object.is(order, -0))
      throw new ProfileFormatError(`${where}: sketch cells out of order`);
    last = order;
    const count = r.uvarint();
    if (count < 1 || !s.cells.add(key, count)) throw new ProfileFormatError(`${where}: invalid sketch cell`);
  }
  if (s.cells.size > capacity && level < MAX_LEVEL)
    throw new ProfileFormatError(`${where}: more cells than capacity`);
  return s;
}

function encodeHistogram(m: Map<number, number>): string {
  const w = new ByteWriter();
  let prev = 0;
  for (const key of [...m.keys()].sort((x, y) => x - y)) {
    w.svarint(key - prev);
    w.uvarint(m.get(key)!);
    prev = key;
  }
  return w.base64();
}

function decodeHistogram(b64: unknown, where: string): Map<number, number> {
  const r = decodeBlob(b64, where);
  const m = new Map<number, number>();
  let prev = 0;
  let first = true;
  while (!r.done) {
    const delta = r.svarint();
    if (!first && delta <= 0) throw new ProfileFormatError(`${where}: histogram bins out of order`);
    first = false;
    prev += delta;
    m.set(prev, r.uvarint());
  }
  return m;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function encodeSummary(s: FeatureSummary): Json {
  if (s.kind === "numeric") {
    const empty = s.count === 0;
    return [
      "n",
      s.count,
      s.missing,
      s.invalid,
      s.mean,
      s.m2,
      empty ? null : s.min,
      empty ? null : s.max,
      s.sketch.level,
      s.sketch.capacity,
      encodeSketch(s.sketch),
    ];
  }
  const counts: Record<string, number> = {};
  for (const c of [...s.counts.keys()].sort()) counts[c] = s.counts.get(c)!;
  return ["c", s.count, s.missing, s.invalid, s.topK, s.level, s.other, counts];
}

function encodePerformance(p: PerformanceStats): Json {
  switch (p.task) {
    case "binary":
      return [
        p.positive,
        p.n,
        p.tp,
        p.fp,
        p.tn,
        p.fn,
        p.scored,
        p.logLossSum,
        p.brierSum,
        encodeHistogram(p.positiveScores),
        encodeHistogram(p.negativeScores),
        p.invalid,
      ];
    case "multiclass":
      return [p.n, p.confusion, p.probabilityN, p.logLossSum, p.invalid];
    case "regression":
      return [p.n, p.absErrorSum, p.squaredErrorSum, p.absPercentErrorSum, p.absPercentN, p.invalid];
  }
}

/** Serialize to a compact JSON string (format version 1). Category and feature order are canonical. */
export function serializeProfile(p: Profile): string {
  const features: Record<string, Json> = {};
  for (const name of Object.keys(p.features).sort()) features[name] = encodeSummary(p.features[name]!);
  const doc: Record<string, Json> = {
    v: PROFILE_VERSION,
    t: p.task,
    n: p.count,
    l: p.labelled,
    f: features,
    p: encodeSummary(p.prediction),
    r: encodePerformance(p.performance),
  };
  if (p.score) doc.s = encodeSummary(p.score);
  return JSON.stringify(doc);
}

function fail(where: string, what: string): never {
  throw new ProfileFormatError(`${where}: ${what}`);
}

function count(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    fail(where, "expected a non-negative integer");
  return v;
}

/** A finite number; -0 is read as 0, since serialization writes -0 as 0 (so a profile round-trips). */
function finite(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(where, "expected a finite number");
  return v === 0 ? 0 : v;
}

function array(v: unknown, length: number, where: string): unknown[] {
  if (!Array.isArray(v) || v.length !== length) fail(where, `expected an array of ${length} elements`);
  return v;
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "expected an object");
  return v as Record<string, unknown>;
}

function decodeSummary(v: unknown, where: string): FeatureSummary {
  if (!Array.isArray(v)) fail(where, "expected a summary array");
  if (v[0] === "n") {
    const a = array(v, 11, where);
    const n = count(a[1], `${where}.count`);
    const level = count(a[8], `${where}.level`);
    if (level > MAX_LEVEL) fail(`${where}.level`, "out of range");
    const capacity = count(a[9], `${where}.capacity`);
    if (capacity < 1) fail(`${where}.capacity`, "must be positive");
    const sketch = decodeSketch(a[10], level, capacity, `${where}.sketch`);
    if (sketchCount(sketch) !== n) fail(`${where}.sketch`, "cell counts do not add up to count");
    const m2 = finite(a[5], `${where}.m2`);
    if (m2 < 0) fail(`${where}.m2`, "must be non-negative");
    return {
      kind: "numeric",
      count: n,
      missing: count(a[2], `${where}.missing`),
      invalid: count(a[3], `${where}.invalid`),
      mean: finite(a[4], `${where}.mean`),
      m2,
      min: n === 0 ? Number.POSITIVE_INFINITY : finite(a[6], `${where}.min`),
      max: n === 0 ? Number.NEGATIVE_INFINITY : finite(a[7], `${where}.max`),
      sketch,
    };
  }
  if (v[0] === "c") {
    const a = array(v, 8, where);
    const counts = new Map<string, number>();
    let total = count(a[6], `${where}.other`);
    for (const [c, n] of Object.entries(record(a[7], `${where}.counts`))) {
      counts.set(c, count(n, `${where}.counts.${c}`));
      total += n as number;
    }
    const n = count(a[1], `${where}.count`);
    if (total !== n) fail(where, "category counts do not add up to count");
    const level = count(a[5], `${where}.level`);
    if (level > 31) fail(`${where}.level`, "out of range");
    return {
      kind: "categorical",
      count: n,
      missing: count(a[2], `${where}.missing`),
      invalid: count(a[3], `${where}.invalid`),
      topK: count(a[4], `${where}.topK`),
      level,
      counts,
      other: count(a[6], `${where}.other`),
    };
  }
  fail(where, "unknown summary kind");
}

function decodePerformance(task: TaskType, v: unknown, where: string): PerformanceStats {
  switch (task) {
    case "binary": {
      const a = array(v, 12, where);
      if (typeof a[0] !== "string") fail(`${where}.positive`, "expected a string");
      return {
        task,
        positive: a[0],
        n: count(a[1], `${where}.n`),
        tp: count(a[2], `${where}.tp`),
        fp: count(a[3], `${where}.fp`),
        tn: count(a[4], `${where}.tn`),
        fn: count(a[5], `${where}.fn`),
        scored: count(a[6], `${where}.scored`),
        logLossSum: finite(a[7], `${where}.logLossSum`),
        brierSum: finite(a[8], `${where}.brierSum`),
        positiveScores: decodeHistogram(a[9], `${where}.positiveScores`),
        negativeScores: decodeHistogram(a[10], `${where}.negativeScores`),
        invalid: count(a[11], `${where}.invalid`),
      };
    }
    case "multiclass": {
      const a = array(v, 5, where);
      const confusion: Record<string, Record<string, number>> = {};
      for (const [label, row] of Object.entries(record(a[1], `${where}.confusion`))) {
        const out: Record<string, number> = {};
        for (const [pred, n] of Object.entries(record(row, `${where}.confusion.${label}`))) {
          out[pred] = count(n, `${where}.confusion.${label}.${pred}`);
        }
        confusion[label] = out;
      }
      return {
        task,
        n: count(a[0], `${where}.n`),
        confusion,
        probabilityN: count(a[2], `${where}.probabilityN`),
        logLossSum: finite(a[3], `${where}.logLossSum`),
        invalid: count(a[4], `${where}.invalid`),
      };
    }
    case "regression": {
      const a = array(v, 6, where);
      return {
        task,
        n: count(a[0], `${where}.n`),
        absErrorSum: finite(a[1], `${where}.absErrorSum`),
        squaredErrorSum: finite(a[2], `${where}.squaredErrorSum`),
        absPercentErrorSum: finite(a[3], `${where}.absPercentErrorSum`),
        absPercentN: count(a[4], `${where}.absPercentN`),
        invalid: count(a[5], `${where}.invalid`),
      };
    }
  }
}

/** Parse and validate a serialized profile. Throws `ProfileFormatError` naming what is wrong. */
export function deserializeProfile(s: string): Profile {
  let doc: unknown;
  try {
    doc = JSON.parse(s);
  } catch (err) {
    throw new ProfileFormatError(`profile is not valid JSON: ${(err as Error).message}`);
  }
  const d = record(doc, "profile");
  if (d.v !== PROFILE_VERSION) fail("profile.v", `unsupported profile version ${JSON.stringify(d.v)}`);
  const task = d.t;
  if (task !== "binary" && task !== "multiclass" && task !== "regression") fail("profile.t", "unknown task");
  const features: Record<string, FeatureSummary> = {};
  for (const [name, enc] of Object.entries(record(d.f, "profile.f"))) {
    if (name === "__proto__") fail("profile.f", "invalid feature name __proto__");
    features[name] = decodeSummary(enc, `profile.f.${name}`);
  }
  const profile: Profile = {
    version: PROFILE_VERSION,
    task,
    count: count(d.n, "profile.n"),
    labelled: count(d.l, "profile.l"),
    features,
    prediction: decodeSummary(d.p, "profile.p"),
    performance: decodePerformance(task, d.r, "profile.r"),
  };
  if (d.s !== undefined) {
    const score = decodeSummary(d.s, "profile.s");
    if (score.kind !== "numeric") fail("profile.s", "score summary must be numeric");
    profile.score = score;
  }
  return profile;
}
