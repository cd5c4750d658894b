/**
 * The runtime model: the one shape of a model that the Lambdas, local mode and the CDK constructs
 * share. It is built once at synth time from the deployment configuration (contracts/catalog.ts), with
 * every default filled in, and handed to every Lambda in the bundled model catalog. Parts of the code
 * that need only some fields take a `Pick` of it, never a shape of their own.
 */
import type { TriggerPolicy, ValidationGate } from "./policy";

/** The learning task of a model: decides which performance statistics a profile keeps. */
export type TaskType = "binary" | "multiclass" | "regression";

/** Kind of a feature in a model's feature schema. Booleans are profiled as categories "true"/"false". */
export type FeatureKind = "numeric" | "categorical";

/** Schema of one feature of a model, from the deployment configuration. */
export interface FeatureSpec {
  readonly name: string;
  readonly kind: FeatureKind;
  /** Relative importance (e.g. from SHAP or permutation importance), used to weight aggregated drift. */
  readonly importance?: number;
}

/** What to profile: the model's task and feature schema (see {@link profileSpecOf}). */
export interface ProfileSpec {
  task: TaskType;
  features: Record<string, FeatureKind>;
  /** Class names; for binary tasks `classes[1]` is the positive class (default "1"). */
  classes?: readonly string[];
  /** Categories per categorical feature counted exactly (default 100); the rest are pooled in `other`. */
  topK?: number;
}

/** SageMaker training job settings of a model. */
export interface TrainingSpec {
  readonly image: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly volumeSizeGb: number;
  readonly maxRuntimeSeconds: number;
  readonly hyperparameters: Readonly<Record<string, string>>;
}

/** Batch transform settings for scoring champion and challenger on the holdout. */
export interface ScoringSpec {
  readonly instanceType: string;
}

/** Thresholds of the CloudWatch alarms that roll a blue/green deployment back. */
export interface RollbackAlarmSpec {
  readonly maxErrorRatePercent: number;
  readonly maxModelLatencyMs: number;
  readonly evaluationPeriods: number;
}

/** Endpoint and blue/green deployment settings of a model. */
export interface DeploymentSpec {
  readonly image: string;
  readonly endpointName: string;
  /**
   * The endpoint's production variant: the new endpoint config's only variant, and the `VariantName`
   * dimension of the rollback alarms. A blue/green update keeps the live config's variant name.
   */
  readonly variantName: string;
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  /** SageMaker `DeploymentConfig` (PascalCase, passed to UpdateEndpoint as is). */
  readonly deploymentConfig: Record<string, unknown>;
  readonly rollbackAlarms: RollbackAlarmSpec;
  /** Interval between DescribeEndpoint polls while an update runs. */
  readonly pollSeconds: number;
  /** Polls before the workflow gives up on the endpoint (SageMaker's own timeout plus a margin). */
  readonly maxPolls: number;
}

/** Approval of a validated challenger before deployment. */
export interface ApprovalSpec {
  readonly required: "never" | "always" | "bySeverity";
  readonly severities: readonly string[];
  /** The state machine's effective approval timeout (the longest of the models that need approval). */
  readonly timeoutHours: number;
}

/** Everything the retraining workflow needs about a model. */
export interface RetrainingSpec {
  /** Days of archived events the prepared dataset covers. */
  readonly trainingWindowDays: number;
  /** User data location (S3 prefix of JSON lines) instead of the event archive. */
  readonly inputDataUri?: string;
  /** SageMaker model package group to register promoted champions in (absent: no registration). */
  readonly modelPackageGroup?: string;
  readonly training: TrainingSpec;
  readonly scoring: ScoringSpec;
  readonly deployment: DeploymentSpec;
  readonly gate: ValidationGate;
  readonly approval: ApprovalSpec;
}

/** A configured model with every default resolved: what every Lambda knows about it. */
export interface RuntimeModel {
  readonly id: string;
  readonly task: TaskType;
  /** Class labels; multiclass always, binary optionally (`classes[1]` positive), regression never. */
  readonly classes?: readonly string[];
  readonly features: readonly FeatureSpec[];
  /** How long a prediction waits for its label; later labels are quarantined. */
  readonly labelHorizonHours: number;
  /** Width of the event-time buckets that statistics are kept in. */
  readonly bucketMinutes: number;
  /**
   * Keep each prediction (and a marker per counted label) until the label horizon: label joins and
   * duplicate detection across batches. Off: labels must carry their prediction (or arrive in the
   * prediction's batch) and duplicates are only detected within a batch.
   */
  readonly predictionIndex: boolean;
  /** Trigger policy with every default filled in. */
  readonly policy: TriggerPolicy;
  readonly retraining: RetrainingSpec;
}

/** The profile layout of a model: the single builder every flow uses. */
export function profileSpecOf(model: Pick<RuntimeModel, "task" | "features" | "classes">): ProfileSpec {
  const features: Record<string, FeatureKind> = {};
  for (const feature of model.features) features[feature.name] = feature.kind;
  return { task: model.task, features, ...(model.classes ? { classes: model.classes } : {}) };
}
