/**
 * A synthetic binary-classification world whose distributions are known in closed form, and the hourly
 * bucket profiles drawn from it. Fast at any volume: a bucket of n predictions is drawn as multinomial
 * counts over a fine grid (2,048 cells from -6 to +6 standard deviations) of each feature's marginal and
 * of the model's logit jointly with the label, which is equal in distribution to profiling n events, up
 * to the grid's resolution (far below the sketch's error bound). A profile keeps per-feature marginals
 * and the (score, label) joint only, so nothing it stores is lost by drawing marginals.
 *
 * The world: independent normal inputs x_j whose means and spreads move with the scenario. The champion
 * scores logit L = w.z + b on standardized inputs z_j = (x_j - trainMean_j) / trainSd_j; the truth is
 * P(y = 1 | x) = sigmoid(a.x + c). (L, a.x + c) is bivariate normal, so P(y = 1 | L) follows from the
 * conditional normal and the logistic-normal approximation sigmoid(m / sqrt(1 + pi s^2 / 8)). While the
 * truth equals the champion's logit the scores are calibrated; concept drift moves it away.
 */
import type { FeatureSpec, ProfileSpec } from "../../contracts/model";
import type {
  BinaryPerformance,
  CategoricalSummary,
  NumericSummary,
  Profile,
} from "../../lambdas/domain/stats/profile";
import { emptyCategorical, emptyNumeric, emptyProfile } from "../../lambdas/domain/stats/profile";
import { scoreBin } from "../../lambdas/domain/stats/profile-update";
import { sketchAdd } from "../../lambdas/domain/stats/sketch";
import { addCount } from "../../lambdas/domain/stats/top-k";

/** One numeric feature at some time: raw mean and standard deviation, share of missing values. */
export interface FeatureState {
  readonly mean: number;
  readonly sd: number;
  readonly missing: number;
}

/** The world at some time. */
export interface WorldState {
  readonly features: readonly FeatureState[];
  /** Mean predictions per hour. */
  readonly volumePerHour: number;
  /** True concept: weights over the standardized inputs and bias. */
  readonly truth: { readonly weights: readonly number[]; readonly bias: number };
}

/** The champion: training statistics of its inputs and its logit. */
export interface Champion {
  readonly trainMean: readonly number[];
  readonly trainSd: readonly number[];
  readonly weights: readonly number[];
  readonly bias: number;
}

const CELLS = 2048;
const SPAN = 6;

/** Standard normal CDF (Zelen & Severo 26.2.17, |error| < 7.5e-8). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989422804014327 * Math.exp((-x * x) / 2);
  const tail =
    d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - tail : tail;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A seeded uniform source with the draws the generator needs. */
export class Draws {
  constructor(private readonly uniform: () => number) {}

  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Binomial(n, p): exact inversion for small means, a rounded normal otherwise. */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    const flip = p > 0.5;
    const q = flip ? 1 - p : p;
    const mean = n * q;
    let k: number;
    if (mean < 25) {
      // Count the successes by geometric waiting times (exact).
      k = 0;
      let position = 0;
      // log1p: for q below 1.1e-16, log(1 - q) rounds to 0 and the loop below would never end.
      const logFail = Math.log1p(-q);
      for (;;) {
        position += Math.floor(Math.log(1 - this.uniform()) / logFail) + 1;
        if (position > n) break;
        k++;
      }
    } else {
      k = Math.round(mean + Math.sqrt(mean * (1 - q)) * this.normal());
      k = Math.min(n, Math.max(0, k));
    }
    return flip ? n - k : k;
  }

  poisson(mean: number): number {
    if (mean < 30) {
      let k = 0;
      let product = this.uniform();
      const limit = Math.exp(-mean);
      while (product > limit) {
        k++;
        product *= this.uniform();
      }
      return k;
    }
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
  }

  /** Multinomial counts of n over cell probabilities (sequential conditional binomials). */
  multinomial(n: number, probabilities: Float64Array): Float64Array {
    const counts = new Float64Array(probabilities.length);
    let remaining = n;
    let mass = 1;
    for (let i = 0; i < probabilities.length && remaining > 0; i++) {
      const p = probabilities[i]!;
      const k = mass > 0 ? this.binomial(remaining, Math.min(1, p / mass)) : 0;
      counts[i] = k;
      remaining -= k;
      mass -= p;
    }
    return counts;
  }
}

/** Cell midpoints and probabilities of N(mean, sd^2) over +-6 sd. */
function normalGrid(mean: number, sd: number): { values: Float64Array; probabilities: Float64Array } {
  const values = new Float64Array(CELLS);
  const probabilities = new Float64Array(CELLS);
  const width = (2 * SPAN) / CELLS;
  let previous = 0;
  let sum = 0;
  for (let i = 0; i < CELLS; i++) {
    const upper = i === CELLS - 1 ? 1 : normalCdf(-SPAN + (i + 1) * width);
    probabilities[i] = upper - previous;
    sum += probabilities[i]!;
    previous = upper;
    values[i] = mean + sd * (-SPAN + (i + 0.5) * width);
  }
  for (let i = 0; i < CELLS; i++) probabilities[i]! /= sum;
  return { values, probabilities };
}

/** A numeric summary of weighted values (cells and counts), as profiling those events would give. */
function numericSummary(
  values: Float64Array,
  counts: Float64Array,
  missing: number,
  scores = false,
): NumericSummary {
  const summary = emptyNumeric(scores);
  let count = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const k = counts[i]!;
    if (k === 0) continue;
    const x = values[i]!;
    // Chan's update with a group of k equal values.
    const total = count + k;
    const delta = x - mean;
    mean += (delta * k) / total;
    m2 += (delta * delta * count * k) / total;
    count = total;
    if (x < summary.min) summary.min = x;
    if (x > summary.max) summary.max = x;
    sketchAdd(summary.sketch, x, k);
  }
  summary.count = count;
  summary.mean = count > 0 ? mean : 0;
  summary.scaledM2 = m2;
  summary.missing = missing;
  return summary;
}

/** The labelled outcomes of a bucket, split by true class so late labels can arrive class by class. */
export interface ClassOutcomes {
  readonly positives: BinaryPerformance;
  readonly negatives: BinaryPerformance;
}

export interface DrawnBucket {
  readonly bucketStart: number;
  /** Predictions profiled (features, score, prediction); no outcomes. */
  readonly profile: Profile;
  /** The outcomes all of its labels will give once they arrived. */
  readonly outcomes: ClassOutcomes;
}

function emptyBinary(): BinaryPerformance {
  return emptyProfile({ task: "binary", features: {}, classes: ["0", "1"] }).performance as BinaryPerformance;
}

const LOG_EPS = 1e-15;

/** Adds `k` outcomes of one score to performance statistics (what addOutcome does k times). */
function addOutcomes(perf: BinaryPerformance, label: 0 | 1, score: number, k: number): void {
  if (k === 0) return;
  const predicted = score >= 0.5;
  perf.n += k;
  if (label === 1 && predicted) perf.tp += k;
  else if (label === 0 && predicted) perf.fp += k;
  else if (label === 1) perf.fn += k;
  else perf.tn += k;
  const clamped = Math.min(1 - LOG_EPS, Math.max(LOG_EPS, score));
  const loss = -(label === 1 ? Math.log(clamped) : Math.log(1 - clamped));
  const brier = (score - label) ** 2;
  perf.scored += k;
  perf.logLossSum += loss * k;
  perf.brierSum += brier * k;
  perf.logLossSquaredSum = (perf.logLossSquaredSum ?? 0) + loss * loss * k;
  perf.brierSquaredSum = (perf.brierSquaredSum ?? 0) + brier * brier * k;
  addCount(label === 1 ? perf.positiveScores : perf.negativeScores, scoreBin(score), k);
}

/** Moments of the champion's logit and of the true logit over the world's inputs, and their covariance. */
export function logitMoments(state: WorldState, champion: Champion) {
  let meanL = champion.bias;
  let varL = 0;
  let meanT = state.truth.bias;
  let varT = 0;
  let cov = 0;
  state.features.forEach((feature, j) => {
    // The champion sees standardized inputs; a missing input is imputed with its training mean (z = 0)
    // by the serving stack. The truth sees the raw input, missing or not.
    const present = 1 - feature.missing;
    const w = champion.weights[j]! / champion.trainSd[j]!;
    const a = state.truth.weights[j]!;
    const variance = feature.sd * feature.sd;
    meanL += w * (feature.mean - champion.trainMean[j]!) * present;
    varL += w * w * variance * present;
    meanT += a * feature.mean;
    varT += a * a * variance;
    cov += w * a * variance * present;
  });
  return { meanL, sdL: Math.sqrt(varL), meanT, varT, cov };
}

/** True accuracy of the champion in a world state (integrated over the logit grid). */
export function trueAccuracy(state: WorldState, champion: Champion): number {
  const { meanL, sdL, meanT, varT, cov } = logitMoments(state, champion);
  const grid = normalGrid(meanL, sdL);
  const beta = sdL > 0 ? cov / (sdL * sdL) : 0;
  const conditionalVar = Math.max(0, varT - beta * cov);
  let accuracy = 0;
  for (let i = 0; i < CELLS; i++) {
    const l = grid.values[i]!;
    const pPositive = sigmoid((meanT + beta * (l - meanL)) / Math.sqrt(1 + (Math.PI * conditionalVar) / 8));
    accuracy += grid.probabilities[i]! * (l >= 0 ? pPositive : 1 - pPositive);
  }
  return accuracy;
}

/** Draws one bucket of `n` predictions from a world state scored by a champion. */
export function drawBucket(
  bucketStart: number,
  n: number,
  state: WorldState,
  champion: Champion,
  features: readonly FeatureSpec[],
  draws: Draws,
): DrawnBucket {
  const spec: ProfileSpec = {
    task: "binary",
    classes: ["0", "1"],
    features: Object.fromEntries(features.map((f) => [f.name, f.kind])),
  };
  const profile = emptyProfile(spec);
  profile.count = n;
  features.forEach((feature, j) => {
    const world = state.features[j]!;
    const missing = draws.binomial(n, world.missing);
    const grid = normalGrid(world.mean, world.sd);
    profile.features[feature.name] = numericSummary(
      grid.values,
      draws.multinomial(n - missing, grid.probabilities),
      missing,
    );
  });
  const { meanL, sdL, meanT, varT, cov } = logitMoments(state, champion);
  const grid = normalGrid(meanL, Math.max(sdL, 1e-6));
  const counts = draws.multinomial(n, grid.probabilities);
  const beta = sdL > 0 ? cov / (sdL * sdL) : 0;
  const conditionalVar = Math.max(0, varT - beta * cov);
  const scores = new Float64Array(CELLS);
  const positive = new Float64Array(CELLS);
  const prediction = emptyCategorical() as CategoricalSummary;
  const outcomes: ClassOutcomes = { positives: emptyBinary(), negatives: emptyBinary() };
  for (let i = 0; i < CELLS; i++) {
    const k = counts[i]!;
    if (k === 0) continue;
    const l = grid.values[i]!;
    const score = sigmoid(l);
    scores[i] = score;
    const pPositive = sigmoid((meanT + beta * (l - meanL)) / Math.sqrt(1 + (Math.PI * conditionalVar) / 8));
    const positives = draws.binomial(k, pPositive);
    positive[i] = positives;
    addOutcomes(outcomes.positives, 1, score, positives);
    addOutcomes(outcomes.negatives, 0, score, k - positives);
    const label = score >= 0.5 ? "1" : "0";
    prediction.counts.set(label, (prediction.counts.get(label) ?? 0) + k);
    prediction.count += k;
  }
  profile.prediction = prediction;
  profile.score = numericSummary(scores, counts, 0, true);
  return { bucketStart, profile, outcomes };
}
