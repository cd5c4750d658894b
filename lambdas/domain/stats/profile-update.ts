import { addMoment, MOMENT_LIMIT } from "./moments";
import type {
  CategoricalSummary,
  FeatureSummary,
  NumericSummary,
  Profile,
  ProfiledOutcome,
  ProfiledPrediction,
} from "./profile";
import { sketchAdd, sketchAddAll } from "./sketch";
import { addCategory, addCount } from "./top-k";

/**
 * Add one value to a numeric summary (moments + extremes + sketch). Non-finite values count as invalid.
 * Any finite value is summarized, however large: the moments stay finite (moments.ts).
 */
export function addNumeric(s: NumericSummary, v: unknown): void {
  if (typeof v === "number" && v - v === 0) {
    addMoment(s, v);
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    sketchAdd(s.sketch, v);
  } else {
    s.missing++;
    if (v !== null && v !== undefined) s.invalid++;
  }
}

/**
 * Add one score to the score summary: a number in [0, 1] is summarized like a numeric value; anything else
 * present (out of range, non-finite, not a number) counts as invalid, and an absent score as missing.
 * The ingest already quarantines events with such scores; this keeps other callers (the drift command,
 * tests) from ever reaching the score sketch with one.
 */
export function addScore(s: NumericSummary, v: unknown): void {
  if (typeof v === "number" && v >= 0 && v <= 1) addNumeric(s, v);
  else {
    s.missing++;
    if (v !== null && v !== undefined) s.invalid++;
  }
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
  if (p.score !== undefined) addScore(p.score, e.score);
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
 * Profile predictions whose features are rows of `rows` (mutates `p`): the same profile as `addPrediction`
 * on each event in order with the same feature values, in value: counts, extremes, moments and categories
 * are identical, and each numeric sketch holds the same values within its error bound (its bytes differ,
 * since the column goes into the sketch in one insert rather than 512 values at a time; docs/statistics.md,
 * "Batch splits"). Column by column: per numeric feature one pass runs the Welford update in event order and
 * the column goes into the sketch at once (`sketchAddAll`, about the cost of sorting the column); per
 * categorical feature the codes are counted and each category is added once with its count (category
 * summaries depend only on the counts, not the order). The ingest builds each (model, bucket) group's
 * profile with it. Profile features absent from `rows` count as missing.
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
    let m2 = s.scaledM2;
    let min = s.min;
    let max = s.max;
    let m = 0;
    // The plain Welford update while the moments are unscaled and values small (moments.ts); the first
    // value that needs scaling hands the rest of the column to `addMoment`.
    let plain = s.momentScale === 0;
    for (let i = 0; i < n; i++) {
      const v = numeric[index[i]! * width + k]!;
      if (Number.isNaN(v)) continue; // missing
      if (plain && v < MOMENT_LIMIT && v > -MOMENT_LIMIT) {
        const delta = v - mean;
        mean += delta / ++count;
        m2 += delta * (v - mean);
      } else {
        if (plain) {
          plain = false;
          s.count = count;
          s.mean = mean;
          s.scaledM2 = m2;
        }
        addMoment(s, v);
      }
      if (v < min) min = v;
      if (v > max) max = v;
      column[m++] = v;
    }
    s.missing += n - m;
    if (plain) {
      s.count = count;
      s.mean = mean;
      s.scaledM2 = m2;
    }
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
    if (score !== undefined) addScore(score, e.score);
  }
}

/** Probabilities are clamped to [LOG_EPS, 1 - LOG_EPS] before a log loss (the validation gate's per-row losses use it too). */
export const LOG_EPS = 1e-15;
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
        const loss = -(y ? Math.log(clamped) : Math.log(1 - clamped));
        const brier = (s - (y ? 1 : 0)) ** 2;
        perf.scored++;
        perf.logLossSum += loss;
        perf.brierSum += brier;
        if (perf.logLossSquaredSum !== undefined) perf.logLossSquaredSum += loss * loss;
        if (perf.brierSquaredSum !== undefined) perf.brierSquaredSum += brier * brier;
        addCount(y ? perf.positiveScores : perf.negativeScores, scoreBin(s));
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
        const loss = -Math.log(Math.min(1 - LOG_EPS, Math.max(LOG_EPS, prob)));
        perf.probabilityN++;
        perf.logLossSum += loss;
        if (perf.logLossSquaredSum !== undefined) perf.logLossSquaredSum += loss * loss;
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
      if (perf.fourthPowerErrorSum !== undefined) perf.fourthPowerErrorSum += err ** 4;
      if (y !== 0) {
        const ape = Math.abs(err / y);
        perf.absPercentErrorSum += ape;
        perf.absPercentN++;
        if (perf.absPercentErrorSquaredSum !== undefined) perf.absPercentErrorSquaredSum += ape * ape;
      }
      break;
    }
  }
  p.labelled++;
}
