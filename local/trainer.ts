/**
 * Local trainer: SIMULATED SageMaker training. It stands in for the SageMaker training job of the
 * retraining workflow when running without an AWS account: it trains a REAL model (logistic
 * regression from `ml-logistic-regression` on `ml-matrix`) on the archived labelled events, and
 * produces a JSON model artifact the local endpoint can load. Nothing here runs on AWS.
 */
import LogisticRegression from "ml-logistic-regression";
import { Matrix } from "ml-matrix";
import type { FeatureValue } from "../contracts/events";
import type { FeatureSpec } from "../contracts/model";

/** One training row: what the archive join of a prediction and its label yields. */
export interface LabelledExample {
  readonly features: Readonly<Record<string, FeatureValue>>;
  readonly label: number | string;
}

/** How raw features become the model's input vector (kept with the model: training/serving parity). */
export interface FeatureEncoding {
  readonly numeric: ReadonlyArray<{ readonly name: string; readonly mean: number; readonly sd: number }>;
  readonly categorical: ReadonlyArray<{ readonly name: string; readonly categories: readonly string[] }>;
}

/** Serialized model: what a SageMaker training job would write to `model.tar.gz`. */
export interface ModelArtifact {
  readonly format: "local-logistic-regression/1";
  readonly version: string;
  readonly trainedAt: number;
  readonly examples: number;
  readonly encoding: FeatureEncoding;
  /** Weights of P(class 1 | x); index 0 is the intercept. */
  readonly weights: readonly number[];
  /** Training-set accuracy (sanity figure, not the validation gate). */
  readonly trainAccuracy: number;
}

export interface TrainOptions {
  readonly version: string;
  readonly trainedAt: number;
  /** Gradient steps. @default 300 */
  readonly steps?: number;
  /** Learning rate on the mean gradient. @default 0.5 */
  readonly learningRate?: number;
  /** Keep at most this many categories per categorical feature. @default 20 */
  readonly maxCategories?: number;
}

/** Raised when a training set cannot produce a binary classifier. */
export class TrainingDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingDataError";
  }
}

function asNumber(v: FeatureValue | undefined): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return undefined;
}

/** Fits the encoding (means, standard deviations, category lists) on the training rows. */
export function fitEncoding(
  rows: readonly LabelledExample[],
  specs: readonly FeatureSpec[],
  maxCategories = 20,
): FeatureEncoding {
  const numeric: Array<{ name: string; mean: number; sd: number }> = [];
  const categorical: Array<{ name: string; categories: string[] }> = [];
  for (const spec of specs) {
    if (spec.kind === "numeric") {
      let n = 0;
      let mean = 0;
      let m2 = 0;
      for (const r of rows) {
        const x = asNumber(r.features[spec.name]);
        if (x === undefined) continue;
        n++;
        const d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
      }
      const sd = n > 1 ? Math.sqrt(m2 / n) : 1;
      numeric.push({ name: spec.name, mean, sd: sd > 1e-9 ? sd : 1 });
    } else {
      const counts = new Map<string, number>();
      for (const r of rows) {
        const v = r.features[spec.name];
        if (v === null || v === undefined) continue;
        counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
      }
      const categories = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, maxCategories)
        .map(([c]) => c);
      categorical.push({ name: spec.name, categories });
    }
  }
  return { numeric, categorical };
}

/** Model input vector: intercept, standardized numerics (missing -> mean), one-hot categories. */
export function encode(features: Readonly<Record<string, FeatureValue>>, enc: FeatureEncoding): number[] {
  const out = [1];
  for (const f of enc.numeric) {
    const x = asNumber(features[f.name]);
    out.push(x === undefined ? 0 : (x - f.mean) / f.sd);
  }
  for (const f of enc.categorical) {
    const v = features[f.name];
    const s = v === null || v === undefined ? undefined : String(v);
    for (const c of f.categories) out.push(s === c ? 1 : 0);
  }
  return out;
}

/** A binary label as the trainer reads it (1, "1", "true" / 0, "0", "false"); undefined otherwise. */
export function binaryLabel(v: unknown): 0 | 1 | undefined {
  if (v === 1 || v === "1" || v === "true") return 1;
  if (v === 0 || v === "0" || v === "false") return 0;
  return undefined;
}

function labelOf(v: number | string): 0 | 1 {
  const y = binaryLabel(v);
  if (y === undefined) throw new TrainingDataError(`binary label expected (0/1), got ${JSON.stringify(v)}`);
  return y;
}

/** P(class 1) of a linear model. */
export function score(weights: readonly number[], x: readonly number[]): number {
  let z = 0;
  for (let i = 0; i < weights.length; i++) z += weights[i]! * (x[i] ?? 0);
  return 1 / (1 + Math.exp(-z));
}

/**
 * Trains a binary logistic regression. `ml-logistic-regression` does plain gradient ascent on the
 * summed gradient, so the learning rate is divided by the row count (mean gradient) and inputs are
 * standardized: a few hundred steps then converge on thousands of rows in well under a second.
 */
export function trainLogisticRegression(
  rows: readonly LabelledExample[],
  specs: readonly FeatureSpec[],
  options: TrainOptions,
): ModelArtifact {
  if (rows.length < 10) throw new TrainingDataError(`need at least 10 labelled examples, got ${rows.length}`);
  const labels = rows.map((r) => labelOf(r.label));
  const positives = labels.reduce<number>((s, y) => s + y, 0);
  if (positives === 0 || positives === rows.length) {
    throw new TrainingDataError("training set has a single class; cannot fit a binary classifier");
  }
  const encoding = fitEncoding(rows, specs, options.maxCategories ?? 20);
  const X = new Matrix(rows.map((r) => encode(r.features, encoding)));
  const Y = Matrix.columnVector(labels);
  const model = new LogisticRegression({
    numSteps: options.steps ?? 300,
    learningRate: (options.learningRate ?? 0.5) / rows.length,
  });
  model.train(X, Y);
  // One-vs-all: classifier k scores P(y != k); the class-0 classifier's weights give P(y = 1).
  const classifier = model.classifiers[0] as { weights: Matrix };
  const weights = classifier.weights.to1DArray();
  let correct = 0;
  for (let i = 0; i < rows.length; i++) {
    const p = score(weights, X.getRow(i));
    if ((p >= 0.5 ? 1 : 0) === labels[i]) correct++;
  }
  return {
    format: "local-logistic-regression/1",
    version: options.version,
    trainedAt: options.trainedAt,
    examples: rows.length,
    encoding,
    weights,
    trainAccuracy: correct / rows.length,
  };
}
