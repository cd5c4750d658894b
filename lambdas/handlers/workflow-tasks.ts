/**
 * Task Lambda of the retraining state machine (lib/workflow-asl.ts). One function, dispatched on
 * `action`, so that the state machine needs one ARN and local mode one override factory. Each action is
 * a function of (input, deps): clients and the clock are injected, so tests and local mode run the same
 * code against fakes, dynalite or a local file store.
 *
 * Actions: confirmLease (and fix the run plan), prepareDataset, evaluateChallenger, promote,
 * releaseLease, fail (release the lease and compose the alert). Input and output shapes are documented in
 * docs/workflow.md; all outputs are small (bulk data goes to S3 by reference).
 */

import type {
  DeploymentSpec,
  FeatureKind,
  RuntimeModel,
  ScoringSpec,
  TaskType,
  TrainingSpec,
} from "../../contracts/model";
import { profileSpecOf } from "../../contracts/model";
import {
  DEFAULT_ARTIFACTS_PREFIX,
  DEFAULT_DATASETS_PREFIX,
  ENDPOINT_BUSY_ERROR,
  type RetrainingRequest,
  TRANSIENT_ERROR,
  WORKFLOW_INPUT_ERROR,
} from "../../contracts/workflow";
import {
  archiveDayPrefixes,
  DEFAULT_MINIMUM_ROWS,
  DEFAULT_SPLIT,
  holdoutLabelLine,
  LabelJoin,
  type LabelledRow,
  splitDataset,
  trainingLine,
  transformLine,
} from "../domain/retraining/dataset";
import {
  parseScoredLine,
  profileFeatures,
  profileHoldout,
  type ScoredOutput,
  shiftValues,
  trainingBaseline,
} from "../domain/retraining/holdout-evaluation";
import {
  applyValidationGate,
  type MetricValues,
  predictionShift,
  type ValidationGate,
} from "../domain/retraining/validation-gate";
import { performanceMetrics } from "../domain/stats/performance";
import { deserializeProfile, serializeProfile } from "../domain/stats/profile-codec";
import type { EndpointInfo, ModelHosting } from "../ports/model-hosting";
import type { ObjectStore } from "../ports/object-store";
import type { WorkflowStateStore } from "../ports/workflow-state-store";
import { loadModelCatalog } from "./model-catalog";

/** Where the workflow keeps its objects in the archive bucket. */
export interface WorkflowLayout {
  readonly bucket: string;
  /** Prefix of prepared datasets (the SageMaker execution role reads it). @default "retraining/datasets/" */
  readonly datasetsPrefix: string;
  /** Prefix of model artifacts and scores (the SageMaker execution role writes it). @default "retraining/artifacts/" */
  readonly artifactsPrefix: string;
}

export interface WorkflowTaskDeps {
  /** The model catalog's models (contracts/catalog.ts): which models may be retrained, and how. */
  readonly models: readonly RuntimeModel[];
  readonly state: WorkflowStateStore;
  readonly objects: ObjectStore;
  readonly hosting: ModelHosting;
  readonly layout: WorkflowLayout;
  readonly now: () => number;
}

/** The run plan ConfirmLease returns into `$.run`; every later state reads its parameters from it. */
export interface RunPlan {
  readonly runId: string;
  readonly modelId: string;
  readonly leaseOwner: string;
  readonly task: TaskType;
  readonly classes?: readonly string[];
  readonly features: readonly { readonly name: string; readonly kind: FeatureKind }[];
  readonly window: { readonly fromMs: number; readonly toMs: number; readonly labelsUntilMs: number };
  readonly inputDataUri?: string;
  readonly modelPackageGroup?: string;
  readonly champion: { readonly exists: boolean; readonly version?: string; readonly modelName?: string };
  readonly endpoint: { readonly name: string; readonly exists: boolean; readonly configName?: string };
  readonly names: {
    readonly trainingJob: string;
    readonly model: string;
    readonly endpointConfig: string;
    readonly challengerTransform: string;
    readonly championTransform: string;
  };
  readonly s3: {
    readonly datasetUri: string;
    readonly artifactsUri: string;
    readonly challengerScoresUri: string;
    readonly championScoresUri: string;
  };
  readonly training: TrainingSpec;
  readonly scoring: ScoringSpec;
  readonly deployment: DeploymentSpec;
  readonly gate: ValidationGate;
  /** `timeoutHours` is the effective timeout of the RequestApproval state (shown in the message). */
  readonly approval: { readonly required: boolean; readonly timeoutHours: number };
}

export interface DatasetResult {
  readonly trainUri: string;
  readonly validationUri: string;
  readonly holdoutFeaturesUri: string;
  readonly holdoutLabelsUri: string;
  /**
   * Feature profile of the train and validation rows (`features-profile.json`); with the holdout's it
   * makes the features of the baseline stored at promotion. Absent in datasets prepared before it
   * existed (a run in flight across a deploy): the baseline's features then come from the holdout only.
   */
  readonly featuresProfileUri?: string;
  readonly counts: { train: number; validation: number; holdout: number; total: number };
  readonly source: "archive" | "inputDataUri";
}

export interface ScoresResult {
  readonly challenger: { readonly outputUri: string };
  readonly champion: { readonly outputUri?: string; readonly skipped?: boolean };
}

export interface EvaluationResult {
  readonly passed: boolean;
  readonly metric: string;
  readonly challenger: MetricValues;
  readonly champion?: MetricValues;
  readonly predictionShift?: number;
  readonly reasons: readonly string[];
  /** One paragraph for the approval and failure messages. */
  readonly summary: string;
  readonly baselineUri: string;
}

export interface PromotionResult {
  readonly championVersion: string;
  readonly modelPackageArn?: string;
  readonly baselineVersion: string;
  readonly subject: string;
  readonly message: string;
}

export interface AlertResult {
  readonly subject: string;
  readonly message: string;
  readonly leaseReleased: boolean;
}

/** Input names an unknown model or is malformed: not retried, fails the run with this cause. */
export class WorkflowInputError extends Error {
  override readonly name = WORKFLOW_INPUT_ERROR;
}

/** The endpoint is mid-update by someone else: deploying now would race it. */
export class EndpointBusyError extends Error {
  override readonly name = ENDPOINT_BUSY_ERROR;
}

/**
 * A dependency failure worth retrying (throttling, 5xx, timeouts), re-thrown under the name the state
 * machine retries with backoff and jitter; the original name stays in the message.
 */
export class TransientError extends Error {
  override readonly name = TRANSIENT_ERROR;
}

const TRANSIENT_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "SlowDown",
  "ServiceUnavailable",
  "InternalServerError",
  "InternalFailure",
  "TimeoutError",
  "RequestTimeout",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

/** Whether an AWS SDK (or network) error is transient: retryable by the SDK's own classification. */
export function isTransient(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e === null || typeof e !== "object") return false;
  if (e.$retryable) return true;
  if (TRANSIENT_NAMES.has(e.name ?? "") || TRANSIENT_NAMES.has(e.code ?? "")) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `2026-11-27T05:21:39.123Z` -> `20261127t052139`: SageMaker names allow [a-zA-Z0-9-] only. */
function compactTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "")
    .toLowerCase();
}

const joinUri = (prefixUri: string, rest: string): string => `${prefixUri.replace(/\/+$/, "")}/${rest}`;

const SUBJECT_MAX = 100;
const subject = (s: string): string => s.replace(/[^\x20-\x7e]/g, "?").slice(0, SUBJECT_MAX);

function parseIso(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new WorkflowInputError(`${what} is not an ISO-8601 time: ${v}`);
  return t;
}

async function readLines(objects: ObjectStore, prefixUri: string): Promise<string[]> {
  const lines: string[] = [];
  for (const uri of await objects.list(prefixUri)) {
    for (const line of (await objects.getText(uri)).split("\n")) if (line.trim() !== "") lines.push(line);
  }
  return lines;
}

/**
 * How long a run may hold the lease: training, scoring, approval and the deployment budget, plus an hour
 * of margin. Past this, the evaluator may assume the run died and start another.
 */
export function runHoldMs(model: Pick<RuntimeModel, "retraining">): number {
  const plan = model.retraining;
  const seconds =
    plan.training.maxRuntimeSeconds +
    2 * 3600 +
    (plan.approval.required === "never" ? 0 : plan.approval.timeoutHours * 3600) +
    plan.deployment.pollSeconds * plan.deployment.maxPolls +
    3600;
  return seconds * 1000;
}

export function createWorkflowTasks(deps: WorkflowTaskDeps) {
  const { state, objects, hosting, layout } = deps;

  async function confirmLease(input: {
    request: RetrainingRequest;
    execution: { id?: string; name: string; startTime?: string };
  }): Promise<RunPlan> {
    const request = input.request;
    if (typeof request?.modelId !== "string") throw new WorkflowInputError("execution input has no modelId");
    const model = deps.models.find((m) => m.id === request.modelId);
    if (!model) throw new WorkflowInputError(`model ${request.modelId} is not configured for retraining`);
    const plan = model.retraining;
    const now = deps.now();
    const owner = request.leaseOwner ?? input.execution.name;
    await state.confirmLease(model.id, owner, now, runHoldMs(model));

    const startMs = parseIso(input.execution.startTime, "execution start time") ?? now;
    const toMs =
      parseIso(request.window?.to, "window.to") ?? parseIso(request.decisionTime, "decisionTime") ?? startMs;
    const fromMs = toMs - plan.trainingWindowDays * DAY;
    const runId = `${model.id}-${compactTime(startMs)}`;
    const [champion, endpoint] = await Promise.all([
      state.getChampion(model.id),
      hosting.describeEndpoint(plan.deployment.endpointName),
    ]);
    if (endpoint.exists && endpoint.status !== "InService") {
      throw new EndpointBusyError(
        `endpoint ${plan.deployment.endpointName} is ${endpoint.status}; a retraining run deploys only onto an InService endpoint`,
      );
    }
    // A challenger is only ever compared with what actually serves: never deploy without that comparison.
    const championModel = endpoint.modelName ?? champion?.version;
    if (endpoint.exists && !championModel) {
      throw new WorkflowInputError(
        `cannot tell which model endpoint ${plan.deployment.endpointName} serves (no readable endpoint config, no registered champion)`,
      );
    }
    const datasetUri = `s3://${layout.bucket}/${layout.datasetsPrefix}${model.id}/${runId}/`;
    const artifactsUri = `s3://${layout.bucket}/${layout.artifactsPrefix}${model.id}/${runId}/`;
    const approvalRequired =
      plan.approval.required === "always" ||
      (plan.approval.required === "bySeverity" &&
        plan.approval.severities.includes(request.severity ?? "retrain"));
    return {
      runId,
      modelId: model.id,
      leaseOwner: owner,
      task: model.task,
      ...(model.classes ? { classes: model.classes } : {}),
      features: model.features.map((f) => ({ name: f.name, kind: f.kind })),
      window: { fromMs, toMs, labelsUntilMs: Math.max(toMs, now) },
      ...(plan.inputDataUri ? { inputDataUri: plan.inputDataUri } : {}),
      ...(plan.modelPackageGroup ? { modelPackageGroup: plan.modelPackageGroup } : {}),
      // The champion is the model the endpoint serves now (scored on the same holdout as the challenger).
      champion: endpoint.exists
        ? { exists: true, modelName: championModel, ...(champion ? { version: champion.version } : {}) }
        : { exists: false },
      endpoint: {
        name: plan.deployment.endpointName,
        exists: endpoint.exists,
        ...(endpoint.configName ? { configName: endpoint.configName } : {}),
      },
      names: {
        trainingJob: runId,
        model: runId,
        endpointConfig: runId,
        challengerTransform: `${runId}-c`,
        championTransform: `${runId}-h`,
      },
      s3: {
        datasetUri,
        artifactsUri,
        challengerScoresUri: `${artifactsUri}scores/challenger/`,
        championScoresUri: `${artifactsUri}scores/champion/`,
      },
      training: plan.training,
      scoring: plan.scoring,
      deployment: plan.deployment,
      gate: plan.gate,
      approval: { required: approvalRequired, timeoutHours: plan.approval.timeoutHours },
    };
  }

  async function prepareDataset(input: { run: RunPlan }): Promise<DatasetResult> {
    const run = input.run;
    const join = new LabelJoin(run.modelId, { fromMs: run.window.fromMs, toMs: run.window.toMs });
    let source: DatasetResult["source"] = "archive";
    if (run.inputDataUri) {
      source = "inputDataUri";
      let n = 0;
      for (const line of await readLines(objects, run.inputDataUri)) {
        const raw = JSON.parse(line) as Record<string, unknown>;
        if ("type" in raw) {
          join.addRecord(raw);
          continue;
        }
        // A plain training row {features, label, requestId?}: fed as a prediction + label pair.
        const requestId = typeof raw.requestId === "string" ? raw.requestId : `row-${n}`;
        n++;
        const timestamp = run.window.fromMs;
        join.addRecord({
          schemaVersion: 1,
          type: "prediction",
          modelId: run.modelId,
          requestId,
          timestamp,
          features: raw.features,
          prediction: raw.label ?? 0,
        });
        join.addRecord({
          schemaVersion: 1,
          type: "label",
          modelId: run.modelId,
          requestId,
          timestamp,
          label: raw.label,
        });
      }
    } else {
      const labelsUntil = run.window.toMs + 0;
      const prefixes = archiveDayPrefixes(
        run.modelId,
        run.window.fromMs,
        Math.max(labelsUntil, run.window.labelsUntilMs) + 1,
      );
      for (const prefix of prefixes) {
        for (const line of await readLines(objects, `s3://${layout.bucket}/${prefix}`)) join.addLine(line);
      }
    }
    const rows = join.rows();
    const minimum = { ...DEFAULT_MINIMUM_ROWS, holdout: run.gate.minHoldout ?? DEFAULT_MINIMUM_ROWS.holdout };
    const split = splitDataset(rows, DEFAULT_SPLIT, minimum);
    const put = (rest: string, lines: string[]) =>
      objects.putText(
        joinUri(run.s3.datasetUri, rest),
        lines.length ? `${lines.join("\n")}\n` : "",
        "application/jsonlines",
      );
    const featuresProfile = profileFeatures(profileSpecOf(run), [...split.train, ...split.validation]);
    const featuresProfileUri = joinUri(run.s3.datasetUri, "features-profile.json");
    await Promise.all([
      put("train/data.jsonl", split.train.map(trainingLine)),
      put("validation/data.jsonl", split.validation.map(trainingLine)),
      put("holdout/features.jsonl", split.holdout.map(transformLine)),
      put("holdout-labels.jsonl", split.holdout.map(holdoutLabelLine)),
      objects.putText(
        joinUri(run.s3.datasetUri, "manifest.json"),
        JSON.stringify({
          runId: run.runId,
          window: run.window,
          source,
          counts: split.counts,
          join: join.stats,
        }),
        "application/json",
      ),
      objects.putText(featuresProfileUri, serializeProfile(featuresProfile), "application/json"),
    ]);
    return {
      trainUri: joinUri(run.s3.datasetUri, "train/"),
      validationUri: joinUri(run.s3.datasetUri, "validation/"),
      holdoutFeaturesUri: joinUri(run.s3.datasetUri, "holdout/"),
      holdoutLabelsUri: joinUri(run.s3.datasetUri, "holdout-labels.jsonl"),
      featuresProfileUri,
      counts: { ...split.counts },
      source,
    };
  }

  async function readScores(outputUri: string, run: RunPlan): Promise<ScoredOutput[]> {
    return (await readLines(objects, outputUri)).map((l) => parseScoredLine(l, run.task, run.classes));
  }

  async function evaluateChallenger(input: {
    run: RunPlan;
    dataset: DatasetResult;
    scores: ScoresResult;
  }): Promise<EvaluationResult> {
    const { run, dataset, scores } = input;
    const features = (await readLines(objects, dataset.holdoutFeaturesUri)).map(
      (l) => (JSON.parse(l) as { features: LabelledRow["features"] }).features,
    );
    const labels = (await objects.getText(dataset.holdoutLabelsUri))
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => (JSON.parse(l) as { label: number | string }).label);
    const rows = features.map((f, i) => ({ features: f, label: labels[i]! }));
    const spec = profileSpecOf(run);

    const challengerOut = await readScores(scores.challenger.outputUri, run);
    const challengerProfile = profileHoldout(spec, rows, challengerOut);
    const challenger: MetricValues = { ...performanceMetrics(challengerProfile.performance) } as MetricValues;

    let champion: MetricValues | undefined;
    let shift: number | undefined;
    if (scores.champion.outputUri && !scores.champion.skipped) {
      const championOut = await readScores(scores.champion.outputUri, run);
      const championProfile = profileHoldout(spec, rows, championOut);
      champion = { ...performanceMetrics(championProfile.performance) } as MetricValues;
      shift = predictionShift(shiftValues(run.task, championOut), shiftValues(run.task, challengerOut));
    }
    const verdict = applyValidationGate(run.gate, {
      task: run.task,
      challenger,
      ...(champion ? { champion } : {}),
      ...(shift !== undefined ? { predictionShift: shift } : {}),
    });
    // Features of every prepared row, outputs and performance of the challenger on the holdout: see
    // trainingBaseline for why, and for what `count` means in the result.
    const baseline =
      dataset.featuresProfileUri === undefined
        ? challengerProfile
        : trainingBaseline(
            challengerProfile,
            deserializeProfile(await objects.getText(dataset.featuresProfileUri)),
          );
    const baselineUri = joinUri(run.s3.datasetUri, "baseline-profile.json");
    await objects.putText(baselineUri, serializeProfile(baseline), "application/json");

    const m = verdict.metric;
    const val = (x: MetricValues | undefined) => (x?.[m] === undefined ? "n/a" : x[m]!.toFixed(4));
    const summary =
      `Model ${run.modelId}, run ${run.runId}: challenger ${m} ${val(challenger)} vs champion ${champion ? val(champion) : "(none)"} ` +
      `on ${rows.length} holdout rows${shift !== undefined ? `, prediction shift ${shift.toFixed(4)}` : ""}; ` +
      (verdict.passed
        ? "validation gate passed."
        : `validation gate rejected: ${verdict.reasons.join("; ")}.`);
    const pick = (x: MetricValues): MetricValues => ({ [m]: x[m], n: x.n ?? rows.length });
    return {
      passed: verdict.passed,
      metric: m,
      challenger: pick(challenger),
      ...(champion ? { champion: pick(champion) } : {}),
      ...(shift !== undefined ? { predictionShift: shift } : {}),
      reasons: verdict.reasons,
      summary,
      baselineUri,
    };
  }

  async function promote(input: {
    run: RunPlan;
    training: { jobName: string; modelArtifacts: string };
    evaluation: EvaluationResult;
  }): Promise<PromotionResult> {
    const { run, training, evaluation } = input;
    const baseline = await objects.getText(evaluation.baselineUri);
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(evaluation.challenger)) if (typeof v === "number") metrics[k] = v;
    const modelPackageArn =
      run.modelPackageGroup && hosting.registerModelPackage
        ? await hosting.registerModelPackage({
            groupName: run.modelPackageGroup,
            image: run.deployment.image,
            modelDataUrl: training.modelArtifacts,
            description: evaluation.summary,
            clientToken: run.runId,
            metadata: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, String(v)])),
          })
        : undefined;
    await state.promote({
      leaseOwner: run.leaseOwner,
      champion: {
        modelId: run.modelId,
        version: run.runId,
        modelName: run.names.model,
        endpointName: run.endpoint.name,
        endpointConfigName: run.names.endpointConfig,
        modelArtifacts: training.modelArtifacts,
        trainingJobName: training.jobName,
        ...(modelPackageArn ? { modelPackageArn } : {}),
        metrics,
        promotedAt: deps.now(),
      },
      baselineVersion: run.runId,
      baseline,
    });
    return {
      championVersion: run.runId,
      ...(modelPackageArn ? { modelPackageArn } : {}),
      baselineVersion: run.runId,
      subject: subject(`[retrain-triggers] model ${run.modelId} retrained and deployed`),
      message: `${evaluation.summary}\nEndpoint ${run.endpoint.name} now serves ${run.names.model} (config ${run.names.endpointConfig}); the new baseline and champion ${run.runId} are recorded and the trigger state is reset.`,
    };
  }

  async function releaseLease(input: { run: RunPlan }): Promise<{ released: boolean }> {
    return { released: await state.releaseLease(input.run.modelId, input.run.leaseOwner) };
  }

  /** Turns a Step Functions error cause into one readable line (SageMaker causes are JSON). */
  function readableCause(cause: unknown): string {
    if (typeof cause !== "string") return JSON.stringify(cause ?? "unknown");
    try {
      const parsed = JSON.parse(cause) as Record<string, unknown>;
      const reason = parsed.FailureReason ?? parsed.errorMessage ?? parsed.message ?? parsed.Cause;
      if (typeof reason === "string") return reason;
    } catch {
      // Not JSON: the cause is already text.
    }
    return cause;
  }

  async function fail(input: {
    state: {
      modelId?: string;
      leaseOwner?: string;
      run?: RunPlan;
      failure?: { Error?: string; Cause?: unknown; stage?: string };
    };
    executionName: string;
  }): Promise<AlertResult> {
    const s = input.state;
    const modelId = s.run?.modelId ?? s.modelId ?? "unknown";
    const owner = s.run?.leaseOwner ?? s.leaseOwner ?? input.executionName;
    const stage = s.failure?.stage ?? "unknown";
    const error = s.failure?.Error ?? "Unknown";
    let cause = readableCause(s.failure?.Cause).slice(0, 2000);
    // A lease this run never confirmed may belong to another run: never release it.
    const leaseReleased = stage === "lease" ? false : await state.releaseLease(modelId, owner);
    // The failure reason and the challenger cleanup both read the run's endpoint: one DescribeEndpoint at most.
    const run = s.run;
    let described: Promise<EndpointInfo> | undefined;
    const endpointState = () => {
      described ??= hosting.describeEndpoint(run!.endpoint.name);
      return described;
    };
    if (stage === "deployment" && run) {
      const ep = await endpointState().catch(() => undefined);
      if (ep?.failureReason) cause = `${cause} (endpoint: ${ep.failureReason})`;
    }
    const endpointNote =
      stage === "promotion"
        ? "The endpoint was updated but the promotion was not recorded: check the endpoint and the registry."
        : "The champion and the endpoint are unchanged.";
    const cleanupNote = run ? await cleanUpChallenger(run, stage, endpointState) : undefined;
    return {
      subject: subject(`[retrain-triggers] retraining of ${modelId} failed at ${stage}`),
      message: [
        `Retraining of model ${modelId}${s.run ? ` (run ${s.run.runId})` : ""} failed at stage "${stage}".`,
        `Error: ${error}`,
        `Cause: ${cause}`,
        endpointNote,
        ...(cleanupNote ? [cleanupNote] : []),
        leaseReleased
          ? "The lease is released: the evaluator may trigger again."
          : "The lease was not released by this run.",
      ].join("\n"),
      leaseReleased,
    };
  }

  /**
   * Deletes the failed run's challenger model and endpoint config, unless the endpoint may be using them:
   * after a promotion failure it serves them; during a deployment failure only when the endpoint is back
   * InService on another configuration (rolled back). A cleanup error never hides the run's failure: it is
   * reported in the message.
   */
  async function cleanUpChallenger(
    run: RunPlan,
    stage: string,
    endpointState: () => Promise<EndpointInfo>,
  ): Promise<string | undefined> {
    if (!hosting.deleteChallenger || stage === "lease" || stage === "dataset") return undefined;
    const resources = { model: run.names.model, endpointConfig: run.names.endpointConfig };
    const kept = `Challenger model ${resources.model} and endpoint config ${resources.endpointConfig} are kept`;
    if (stage === "promotion") return `${kept}: the endpoint serves them.`;
    try {
      if (stage === "deployment" || stage === "unknown") {
        const ep = await endpointState();
        if (!(ep.exists && ep.status === "InService" && ep.configName !== resources.endpointConfig))
          return `${kept}: endpoint ${run.endpoint.name} is ${ep.exists ? `${ep.status} on ${ep.configName}` : "absent"}, it may use them.`;
      }
      const deleted = await hosting.deleteChallenger(resources);
      return deleted.length > 0 ? `Challenger cleaned up: deleted ${deleted.join(" and ")}.` : undefined;
    } catch (error) {
      const e = error as Error;
      return `${kept}: cleanup failed (${e.name}: ${e.message}).`;
    }
  }

  const actions = { confirmLease, prepareDataset, evaluateChallenger, promote, releaseLease, fail } as const;
  type Action = keyof typeof actions;

  return {
    ...actions,
    /** Dispatches a state machine task event `{ action, ...input }`. */
    async handle(event: { action: string } & Record<string, unknown>): Promise<unknown> {
      const fn = actions[event.action as Action] as ((input: never) => Promise<unknown>) | undefined;
      if (!fn) throw new WorkflowInputError(`unknown workflow action: ${event.action}`);
      try {
        return await fn(event as never);
      } catch (error) {
        if (isTransient(error)) {
          const e = error as Error;
          throw new TransientError(`${e.name}: ${e.message}`, { cause: error });
        }
        throw error;
      }
    },
  };
}

export type WorkflowTasks = ReturnType<typeof createWorkflowTasks>;

let tasks: WorkflowTasks | undefined;

/** Composition root: SDK clients and adapters built once per container from the environment. */
async function productionTasks(): Promise<WorkflowTasks> {
  if (tasks) return tasks;
  const [{ DynamoDBClient }, { S3Client }, { SageMakerClient }, repo, s3, sm, store] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("@aws-sdk/client-s3"),
    import("@aws-sdk/client-sagemaker"),
    import("../adapters/dynamodb-model-state-repository"),
    import("../adapters/s3-object-store"),
    import("../adapters/sagemaker-model-hosting"),
    import("../adapters/repository-workflow-state-store"),
  ]);
  const env = process.env;
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new WorkflowInputError(`environment variable ${name} is not set`);
    return v;
  };
  tasks = createWorkflowTasks({
    models: loadModelCatalog(env).models,
    state: new store.RepositoryWorkflowStateStore(
      new repo.DynamoDbModelStateRepository({
        client: new DynamoDBClient({}),
        tableName: need("TABLE_NAME"),
      }),
    ),
    objects: new s3.S3ObjectStore(new S3Client({})),
    hosting: new sm.SageMakerModelHosting(new SageMakerClient({})),
    layout: {
      bucket: need("ARCHIVE_BUCKET"),
      datasetsPrefix: env.DATASETS_PREFIX ?? DEFAULT_DATASETS_PREFIX,
      artifactsPrefix: env.ARTIFACTS_PREFIX ?? DEFAULT_ARTIFACTS_PREFIX,
    },
    now: () => Date.now(),
  });
  return tasks;
}

/** Lambda entry point: the state machine invokes it with `{ action, ...input }`. */
export const handler = async (event: { action: string } & Record<string, unknown>): Promise<unknown> =>
  (await productionTasks()).handle(event);
