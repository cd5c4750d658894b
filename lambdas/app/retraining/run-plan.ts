/**
 * What the retraining use cases share: their ports (the workflow state store, the object store, model
 * hosting), the bucket layout, the run plan that ConfirmLease fixes and every later state reads, the
 * results each task returns into the execution state, and the errors that fail a run without retries.
 * Input and output shapes are documented in docs/workflow.md; all are small (bulk data goes to S3 by
 * reference).
 */
import type {
  DeploymentSpec,
  FeatureKind,
  RuntimeModel,
  ScoringSpec,
  TaskType,
  TrainingSpec,
} from "../../../contracts/model";
import type { PerformanceMetricName, ValidationGate } from "../../../contracts/policy";
import {
  ENDPOINT_BUSY_ERROR,
  ENDPOINT_UNUSABLE_ERROR,
  WORKFLOW_INPUT_ERROR,
} from "../../../contracts/workflow";
import type { GateCheck, GateOutcome } from "../../domain/retraining/validation-gate";
import type { ModelHosting } from "../../ports/model-hosting";
import type { ObjectStore } from "../../ports/object-store";
import type { WorkflowStateStore } from "../../ports/workflow-state-store";

/** Where the workflow reads archived events and keeps its datasets and artifacts. */
export interface WorkflowLayout {
  /** The event archive (`<modelId>/yyyy/MM/dd/`), read by the dataset preparation. */
  readonly bucket: string;
  /**
   * Bucket of datasets and artifacts, apart from the archive whose lifecycle tiers and expires objects.
   * @default - `bucket`
   */
  readonly retrainingBucket?: string;
  /** Prefix of prepared datasets (the SageMaker execution role reads it). @default "retraining/datasets/" */
  readonly datasetsPrefix: string;
  /** Prefix of model artifacts and scores (the SageMaker execution role writes it). @default "retraining/artifacts/" */
  readonly artifactsPrefix: string;
}

/** The ports and settings of the retraining use cases. */
export interface RetrainingDeps {
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
  /**
   * Share of the labelled rows in the holdout: the default 0.15, raised (up to MAX_HOLDOUT_SHARE) when a
   * champion exists and the validation gate's paired test needs more rows. Absent in older datasets.
   */
  readonly holdoutShare?: number;
  /** How the holdout share was chosen, in words (with a champion only). */
  readonly holdoutPlan?: string;
  readonly source: "archive" | "inputDataUri";
}

export interface ScoresResult {
  readonly challenger: { readonly outputUri: string };
  readonly champion: { readonly outputUri?: string; readonly skipped?: boolean };
}

/** One model's gate metric on the holdout (`{ <metric>: value, n }`); Promote records it with the champion. */
export type MetricValues = Readonly<Partial<Record<PerformanceMetricName, number>>> & { readonly n?: number };

export interface EvaluationResult {
  readonly passed: boolean;
  /** passed, rejected on the evidence, or insufficientHoldout (not shown within the margin nor worse). */
  readonly outcome: GateOutcome;
  readonly metric: PerformanceMetricName;
  /** Non-inferiority margin applied: metric units, or a fraction of the champion's value for error metrics. */
  readonly margin: number;
  readonly challenger: MetricValues;
  readonly champion?: MetricValues;
  /** Rank agreement of the two models' outputs on the holdout (Spearman, or Cohen's kappa for classes). */
  readonly agreement?: number;
  /** Every check of the gate: value, threshold, interval (infinite bounds serialize as null) and verdict. */
  readonly checks: readonly GateCheck[];
  /** The failed checks in words. */
  readonly reasons: readonly string[];
  /** The verdict in plain words, one line per check, for the approval, success and failure messages. */
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

/**
 * Input names an unknown model or is malformed, or the model's configuration does not fit the live
 * endpoint (e.g. its variant name): not retried, fails the run with this cause.
 */
export class WorkflowInputError extends Error {
  override readonly name = WORKFLOW_INPUT_ERROR;
}

/** The endpoint is mid-update by someone else: deploying now would race it. */
export class EndpointBusyError extends Error {
  override readonly name = ENDPOINT_BUSY_ERROR;
}

/** The endpoint is in a state it does not leave by itself: an operator must act before any run deploys. */
export class EndpointUnusableError extends Error {
  override readonly name = ENDPOINT_UNUSABLE_ERROR;
}

/** `2026-11-27T05:21:39.123Z` -> `20261127t052139`: SageMaker names allow [a-zA-Z0-9-] only. */
export function compactTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "")
    .toLowerCase();
}

/** `s3://b/prefix/` + `rest` with exactly one slash between them. */
export const joinUri = (prefixUri: string, rest: string): string =>
  `${prefixUri.replace(/\/+$/, "")}/${rest}`;

const SUBJECT_MAX = 100;
/** An SNS subject: printable ASCII, at most 100 characters. */
export const subject = (s: string): string => s.replace(/[^\x20-\x7e]/g, "?").slice(0, SUBJECT_MAX);

/** An ISO-8601 time of the execution input, or a WorkflowInputError naming it. */
export function parseIso(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new WorkflowInputError(`${what} is not an ISO-8601 time: ${v}`);
  return t;
}

/** The non-empty lines of every object under a prefix, in key order. */
export async function readLines(objects: ObjectStore, prefixUri: string): Promise<string[]> {
  const lines: string[] = [];
  for (const uri of await objects.list(prefixUri)) {
    for (const line of (await objects.getText(uri)).split("\n")) if (line.trim() !== "") lines.push(line);
  }
  return lines;
}
