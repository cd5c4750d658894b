/**
 * `replay --train local`: counterfactual retraining. LOCAL SIMULATION of the retraining workflow (no
 * SageMaker): when the policy decides to retrain a binary model, the local trainer (local/trainer.ts, a real
 * logistic regression) is fitted on the log's labelled events of the training window, judged against the
 * model that served those events by the production validation gate (`applyValidationGate`), and, if it
 * passes, deployed: from then on the log's predictions of that model are re-scored by the new model before
 * the ingest sees them, the evaluator's state is reset as the workflow resets it (`resetAfterDeploy`, with
 * the training baseline built by `trainingBaseline`), and every later decision judges the new champion.
 * The replay's accuracy over time (from the stored statistics) is then the accuracy the policy would have
 * bought; `summary()` adds each retrain's outcome and the accuracy of each served version.
 *
 * Bounded memory: predictions wait for their label for the model's label horizon, at most
 * `maxPending` of them per model (the oldest are forgotten first); training rows are the latest `maxRows`
 * labelled rows within `trainingWindowDays`. Lines that are not valid events are passed on untouched, so
 * the ingest quarantines them as before.
 */

import type { FeatureValue } from "../contracts/events";
import type { RuntimeModel } from "../contracts/model";
import { profileSpecOf } from "../contracts/model";
import { DAY_MS, HOUR_MS } from "../contracts/time";
import { parseTimestamp } from "../lambdas/domain/ingest/event-validation";
import {
  type HoldoutRow,
  profileFeatures,
  profileHoldout,
  type ScoredOutput,
  trainingBaseline,
} from "../lambdas/domain/retraining/holdout-evaluation";
import { applyValidationGate } from "../lambdas/domain/retraining/validation-gate";
import type { ModelStateRepository } from "../lambdas/ports/model-state-repository";
import { predictWith } from "./endpoint";
import type { ReplayRecord } from "./log-spill";
import { binaryLabel, type ModelArtifact, TrainingDataError, trainLogisticRegression } from "./trainer";

export interface CounterfactualOptions {
  /** Labelled rows kept per model (the latest). @default 50_000 */
  readonly maxRows?: number;
  /**
   * Rows one training uses, evenly spread over the training window (the local trainer's gradient steps
   * cost rows x steps; the holdout keeps every seventh row of the window). @default 5_000
   */
  readonly maxTrainingRows?: number;
  /** Predictions awaiting their label per model (the oldest are forgotten first). @default 200_000 */
  readonly maxPending?: number;
}

/** One counterfactual retrain. */
export interface CounterfactualRetrain {
  readonly modelId: string;
  readonly at: string;
  readonly version: string;
  /** deployed: served from `at` on; rejected: the validation gate refused it; failed: no model trained. */
  readonly outcome: "deployed" | "rejected" | "failed";
  readonly detail: string;
  readonly trainingRows: number;
  readonly holdoutRows: number;
  /** The gate metric of the challenger and of the model that served the holdout rows. */
  readonly challenger?: number;
  readonly champion?: number;
}

/** Labelled accuracy of the predictions one model version served. */
export interface ServedAccuracy {
  readonly modelId: string;
  readonly version: string;
  readonly from: string;
  readonly labelled: number;
  readonly accuracy: number | null;
}

interface Pending {
  readonly features: Readonly<Record<string, FeatureValue>>;
  readonly prediction: unknown;
  readonly score?: number;
  readonly t: number;
  readonly version: string;
}

interface Row extends HoldoutRow {
  readonly output: ScoredOutput;
  readonly t: number;
}

interface Served {
  readonly artifact: ModelArtifact;
  readonly from: number;
}

/** The version name of the model the log itself recorded. */
const LOGGED = "logged";
/** Every k-th training row goes to the holdout (about 15 %). */
const HOLDOUT_EVERY = 7;

export class CounterfactualTrainer {
  private readonly models: Map<string, RuntimeModel>;
  private readonly pending = new Map<string, Map<string, Pending>>();
  private readonly rows = new Map<string, Row[]>();
  private readonly served = new Map<string, Served>();
  private readonly retrains: CounterfactualRetrain[] = [];
  /** Per model and served version: labelled and correct counts. */
  private readonly tallies = new Map<string, { from: number; labelled: number; correct: number }>();
  private readonly maxRows: number;
  private readonly maxTrainingRows: number;
  private readonly maxPending: number;

  constructor(models: readonly RuntimeModel[], options: CounterfactualOptions = {}) {
    this.models = new Map(models.filter((m) => m.task === "binary").map((m) => [m.id, m]));
    this.maxRows = options.maxRows ?? 50_000;
    this.maxTrainingRows = options.maxTrainingRows ?? 5_000;
    this.maxPending = options.maxPending ?? 200_000;
  }

  /** Models that cannot be retrained locally (the local trainer fits binary classifiers only). */
  static unsupported(models: readonly RuntimeModel[]): string[] {
    return models.filter((m) => m.task !== "binary").map((m) => `${m.id} (${m.task})`);
  }

  /**
   * The record as the serving model would have produced it: a prediction of a retrained model is
   * re-scored, a label's copy of its prediction follows. Also joins labels to their predictions for
   * training. Anything that is not a valid event of a binary model passes unchanged.
   */
  transform(record: ReplayRecord): ReplayRecord {
    if (record.base64) return record;
    let e: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(record.data);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return record;
      e = parsed as Record<string, unknown>;
    } catch {
      return record;
    }
    const modelId = e.modelId;
    const requestId = e.requestId;
    if (e.schemaVersion !== 1 || typeof modelId !== "string" || typeof requestId !== "string") return record;
    const model = this.models.get(modelId);
    if (!model) return record;
    // The ingest's reading of the timestamp: a line it would quarantine is not joined for training either.
    const t = parseTimestamp(e.timestamp);
    if (t === undefined) return record;
    if (e.type === "prediction") return this.prediction(model, record, e, requestId, t);
    if (e.type === "label") return this.label(model, record, e, requestId, t);
    return record;
  }

  private prediction(
    model: RuntimeModel,
    record: ReplayRecord,
    e: Record<string, unknown>,
    requestId: string,
    t: number,
  ): ReplayRecord {
    const features = e.features;
    if (typeof features !== "object" || features === null || Array.isArray(features)) return record;
    const stored = this.served.get(model.id);
    const served = stored !== undefined && t >= stored.from ? stored : undefined;
    let out = record;
    if (served !== undefined) {
      const p = predictWith(served.artifact, features as Record<string, FeatureValue>);
      e.prediction = p.prediction;
      e.score = p.score;
      if ("modelVersion" in e) e.modelVersion = p.modelVersion;
      out = { ...record, data: JSON.stringify(e) };
    }
    const waiting = this.pendingOf(model.id);
    waiting.set(requestId, {
      features: features as Record<string, FeatureValue>,
      prediction: e.prediction,
      ...(typeof e.score === "number" ? { score: e.score } : {}),
      t,
      version: served?.artifact.version ?? LOGGED,
    });
    // Forget predictions past the label horizon (insertion order is close to time order), and the oldest
    // beyond the cap.
    const horizon = t - model.labelHorizonHours * HOUR_MS;
    for (const [k, p] of waiting) {
      if (p.t >= horizon && waiting.size <= this.maxPending) break;
      waiting.delete(k);
    }
    return out;
  }

  private label(
    model: RuntimeModel,
    record: ReplayRecord,
    e: Record<string, unknown>,
    requestId: string,
    t: number,
  ): ReplayRecord {
    const p = this.pendingOf(model.id).get(requestId);
    if (p === undefined) return record;
    this.pendingOf(model.id).delete(requestId);
    const label = e.label;
    if (typeof label !== "number" && typeof label !== "string" && typeof label !== "boolean") return record;
    const y = binary(label);
    if (y !== undefined && (p.prediction === 0 || p.prediction === 1 || typeof p.prediction === "boolean")) {
      const key = `${model.id}\u0000${p.version}`;
      const tally = this.tallies.get(key) ?? { from: p.t, labelled: 0, correct: 0 };
      tally.labelled++;
      if (binary(p.prediction as number | boolean) === y) tally.correct++;
      this.tallies.set(key, tally);
    }
    if (y !== undefined && (p.prediction === 0 || p.prediction === 1)) {
      const rows = this.rowsOf(model.id);
      rows.push({
        features: p.features,
        label: y,
        output: { prediction: p.prediction, ...(p.score !== undefined ? { score: p.score } : {}) },
        t,
      });
      if (rows.length > this.maxRows * 1.25) rows.splice(0, rows.length - this.maxRows);
    }
    // A label may carry its prediction: it must name what the serving model predicted.
    if (p.version !== LOGGED && "prediction" in e) {
      e.prediction = p.prediction;
      if (p.score !== undefined && "score" in e) e.score = p.score;
      return { ...record, data: JSON.stringify(e) };
    }
    return record;
  }

  /**
   * The retraining the policy decided at `at`: train on the window's labelled rows, gate against the
   * model that served them, deploy if it passes (the evaluator's `state` is reset as the workflow does).
   */
  async retrain(modelId: string, at: number, state: ModelStateRepository): Promise<CounterfactualRetrain> {
    const model = this.models.get(modelId);
    const version = `local-${new Date(at).toISOString()}`;
    const base = { modelId, at: new Date(at).toISOString(), version };
    const done = (r: CounterfactualRetrain): CounterfactualRetrain => {
      this.retrains.push(r);
      return r;
    };
    if (!model)
      return done({
        ...base,
        outcome: "failed",
        detail: "not a binary model",
        trainingRows: 0,
        holdoutRows: 0,
      });
    const from = at - model.retraining.trainingWindowDays * DAY_MS;
    const window = this.rowsOf(modelId).filter((r) => r.t >= from && r.t <= at);
    const rest = window.filter((_, i) => i % HOLDOUT_EVERY !== 0);
    const holdout = window.filter((_, i) => i % HOLDOUT_EVERY === 0);
    const step = Math.ceil(rest.length / this.maxTrainingRows);
    const train = step > 1 ? rest.filter((_, i) => i % step === 0) : rest;
    const sizes = { trainingRows: train.length, holdoutRows: holdout.length };
    let artifact: ModelArtifact;
    try {
      artifact = trainLogisticRegression(train, model.features, { version, trainedAt: at });
    } catch (error) {
      if (!(error instanceof TrainingDataError)) throw error;
      return done({ ...base, outcome: "failed", detail: error.message, ...sizes });
    }
    const challenger = holdout.map((r): ScoredOutput => {
      const p = predictWith(artifact, r.features);
      return { prediction: p.prediction, score: p.score };
    });
    const verdict = applyValidationGate(model.retraining.gate, {
      task: "binary",
      labels: holdout.map((r) => r.label),
      challenger,
      champion: holdout.map((r) => r.output),
    });
    const metrics = {
      ...(verdict.challenger.value !== undefined ? { challenger: verdict.challenger.value } : {}),
      ...(verdict.champion?.value !== undefined ? { champion: verdict.champion.value } : {}),
    };
    if (!verdict.passed)
      return done({ ...base, outcome: "rejected", detail: verdict.reasons.join("; "), ...sizes, ...metrics });
    const spec = profileSpecOf(model);
    const baseline = trainingBaseline(
      profileHoldout(spec, holdout, challenger),
      profileFeatures(spec, window),
    );
    await state.resetAfterDeploy({
      modelId,
      championVersion: version,
      championTrainedAt: at,
      baselineVersion: version,
      baseline: { version, profile: baseline, createdAt: at, source: "training" },
      at,
    });
    this.served.set(modelId, { artifact, from: at });
    return done({
      ...base,
      outcome: "deployed",
      detail: `${verdict.metric} ${fmt(metrics.challenger)} vs ${fmt(metrics.champion)} on ${holdout.length} holdout rows`,
      ...sizes,
      ...metrics,
    });
  }

  summary(): { retrains: CounterfactualRetrain[]; served: ServedAccuracy[] } {
    const served = [...this.tallies.entries()]
      .map(([key, t]) => {
        const [modelId, version] = key.split("\u0000") as [string, string];
        return {
          modelId,
          version,
          from: new Date(t.from).toISOString(),
          labelled: t.labelled,
          accuracy: t.labelled > 0 ? Math.round((t.correct / t.labelled) * 1e4) / 1e4 : null,
        };
      })
      .sort((a, b) =>
        a.modelId === b.modelId ? a.from.localeCompare(b.from) : a.modelId.localeCompare(b.modelId),
      );
    return { retrains: [...this.retrains], served };
  }

  private pendingOf(modelId: string): Map<string, Pending> {
    let m = this.pending.get(modelId);
    if (!m) {
      m = new Map();
      this.pending.set(modelId, m);
    }
    return m;
  }

  private rowsOf(modelId: string): Row[] {
    let r = this.rows.get(modelId);
    if (!r) {
      r = [];
      this.rows.set(modelId, r);
    }
    return r;
  }
}

/** A binary label or prediction as 0/1 (the trainer's reading, and JSON booleans), undefined otherwise. */
function binary(v: number | string | boolean): 0 | 1 | undefined {
  return typeof v === "boolean" ? (v ? 1 : 0) : binaryLabel(v);
}

const fmt = (x: number | undefined): string => (x === undefined ? "n/a" : x.toFixed(4));
