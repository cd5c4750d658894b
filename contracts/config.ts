/**
 * Deployment configuration: one JSON document describes everything `cdk deploy` creates (models and
 * their trigger policies, training and deployment specs, alerting, schedule, retention, ingest limits).
 * It is validated by the zod schema below at synth time, so a mistake fails `cdk synth` with the path of
 * the offending field (`models[0].deployment.canarySize: must be between 1 and 50`) instead of failing
 * at 3 a.m. in a Lambda. Every default lives in {@link DEFAULTS}, the single place the schema, the
 * stacks and docs/configuration.md take them from.
 *
 * The Lambdas do not receive this whole document: contracts/catalog.ts turns it into the model
 * catalog every Lambda is bundled with. Like every module under contracts/, this one imports neither
 * the CDK nor the AWS SDK.
 */
import { readFileSync } from "node:fs";
import { Cron } from "croner";
import { z } from "zod";
import { MODEL_ID_PATTERN } from "./events";
import {
  ApprovalSchema,
  PERFORMANCE_METRICS,
  TASK_METRICS,
  TimezoneSchema,
  TriggerPolicySchema,
  ValidationGateSchema,
} from "./policy";

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Every default of the deployment configuration, in one place. The trigger policy, validation gate
 * and approval defaults live with their schemas in contracts/policy.ts.
 */
export const DEFAULTS = {
  name: "RetrainTriggers",
  model: {
    labelHorizonHours: 168,
    bucketMinutes: 60,
    predictionIndex: true,
  },
  training: {
    instanceType: "ml.m5.xlarge",
    instanceCount: 1,
    volumeSizeGb: 30,
    maxRuntimeMinutes: 120,
    trainingWindowDays: 30,
  },
  deployment: {
    instanceType: "ml.m5.large",
    instanceCount: 1,
    variantName: "AllTraffic",
    strategy: "canary",
    canarySize: 10,
    linearStepSize: 25,
    bakeTimeMinutes: 10,
    terminationWaitMinutes: 5,
    maxExecutionMinutes: 60,
    rollbackAlarms: {
      maxErrorRatePercent: 1,
      maxModelLatencyMs: 1000,
      evaluationPeriods: 3,
    },
  },
  schedule: {
    expression: "rate(1 hour)",
    timezone: "UTC",
    flexibleWindowMinutes: 0,
    retryAttempts: 2,
    maxEventAgeMinutes: 60,
    memoryMb: 1024,
    timeoutSeconds: 300,
  },
  alerts: {
    iteratorAgeMinutes: 5,
    quarantineRatePercent: 5,
    dlqDepth: 1,
    lambdaErrors: 1,
    workflowFailures: 1,
    unattributedQuarantined: 1,
  },
  retention: {
    archiveDays: 365,
    archiveInfrequentAccessDays: 30,
    archiveGlacierDays: 90,
    streamHours: 24,
    logDays: 30,
    quarantineDays: 30,
  },
  ingest: {
    streamMode: "on-demand",
    shardCount: 2,
    batchSize: 500,
    maxBatchingWindowSeconds: 5,
    retryAttempts: 5,
    maxRecordAgeSeconds: 3600,
    bisectBatchOnError: true,
    memoryMb: 1024,
    timeoutSeconds: 120,
    maxRecordBytes: 262_144,
    maxFutureSkewSeconds: 300,
    maxEventAgeDays: 30,
    firehoseBufferSeconds: 300,
    firehoseBufferMb: 64,
  },
} as const;

/**
 * SageMaker deployment guardrail limits the configuration is checked against when it is read, so a
 * mistake fails synth instead of an UpdateEndpoint after training has been paid for. Traffic sizes are
 * percents of the new fleet's capacity (`CAPACITY_PERCENT`): a canary at most 50 %, a linear step 10-50 %
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html,
 * https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-canary.html,
 * https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-linear.html). With one
 * instance no step can be at most 50 % of the fleet, so canary and linear shifting need at least two.
 */
export const SAGEMAKER_LIMITS = {
  canarySize: { min: 1, max: 50 },
  linearStepSize: { min: 10, max: 50 },
  /** Instances a canary or linear traffic shift needs (one step must be at most half the fleet). */
  minInstancesForStepwiseShifting: 2,
} as const;

const between = (min: number, max: number) => `must be between ${min} and ${max}`;

/** An integer in [min, max], with the message the docs promise. */
const intIn = (min: number, max: number) =>
  z
    .number({ error: (i) => (i.input === undefined ? "is required" : "must be a number") })
    .int({ error: "must be an integer" })
    .min(min, { error: between(min, max) })
    .max(max, { error: between(min, max) });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

/** Model ids end up in DynamoDB keys (`#` separated), S3 prefixes and SageMaker resource names. */
const MODEL_ID = MODEL_ID_PATTERN;
/** SageMaker endpoint names: alphanumerics and hyphens, at most 63 characters. */
const ENDPOINT_NAME = /^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$/;
/**
 * SageMaker production variant names, the same pattern as endpoint names
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html).
 */
const VARIANT_NAME = /^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$/;
const INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;

const instanceType = z
  .string()
  .regex(INSTANCE_TYPE, { error: "must be a SageMaker instance type like ml.m5.large" });

/**
 * Validates an EventBridge Scheduler expression: `rate(<n> <unit>)` or a six-field
 * `cron(min hour day-of-month month day-of-week year)` where exactly one day field is `?`.
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) return Number(rate[1]) >= 1 ? undefined : "rate must be at least 1";
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return 'must be "rate(<n> minutes|hours|days)" or "cron(<6 fields>)"';
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6)
    return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  const [minute, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === "?") === (dow === "?")) return "cron: exactly one of day-of-month and day-of-week must be ?";
  if (!/^(\*|\d{4}(-\d{4})?(\/\d+)?(,\d{4}(-\d{4})?)*)$/.test(year))
    return `cron: invalid year field "${year}"`;
  try {
    // AWS allows "start/step" (e.g. 0/15); croner wants "start-max/step".
    const maxima = [59, 23, 31, 12, 7];
    const pattern = [minute, hour, dom, month, dow].map((field, i) =>
      field.replace(
        /(^|,)(\d+)\/(\d+)/g,
        (_m, sep: string, start: string, step: string) => `${sep}${start}-${maxima[i]}/${step}`,
      ),
    );
    new Cron(pattern.join(" "), { paused: true });
  } catch (error) {
    return `cron: ${(error as Error).message}`;
  }
  return undefined;
}

/** The period of a `rate(...)` schedule in minutes (undefined for cron). */
export function ratePeriodMinutes(expression: string): number | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!rate) return undefined;
  const unit = rate[2]?.startsWith("minute") ? 1 : rate[2]?.startsWith("hour") ? 60 : 24 * 60;
  return Number(rate[1]) * unit;
}

const scheduleExpression = z.string().superRefine((expr, ctx) => {
  const problem = scheduleExpressionProblem(expr);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const FeatureSchema = z.strictObject({
  /** Feature name as it appears in `features` of prediction events. */
  name: z.string({ error: "is required" }).min(1, { error: "must not be empty" }),
  kind: oneOf(["numeric", "categorical"]),
  /** Relative importance (>= 0) weighting aggregated drift; absent means 1. */
  importance: z.number().min(0, { error: "must be >= 0" }).optional(),
});

export const TrainingSpecSchema = z.strictObject({
  /** ECR image URI of the training container (also used for inference unless `inferenceImageUri`). */
  imageUri: z.string({ error: "is required" }).min(1, { error: "must not be empty" }),
  inferenceImageUri: z.string().min(1).optional(),
  instanceType: instanceType.default(DEFAULTS.training.instanceType),
  instanceCount: intIn(1, 100).default(DEFAULTS.training.instanceCount),
  volumeSizeGb: intIn(1, 16_384).default(DEFAULTS.training.volumeSizeGb),
  maxRuntimeMinutes: intIn(1, 40_320).default(DEFAULTS.training.maxRuntimeMinutes),
  hyperparameters: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .transform((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)])))
    .default({}),
  /** S3 URI of training data; default: the dataset prepared from the event archive. */
  inputDataUri: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { error: "must be an s3:// URI" })
    .optional(),
  /** Days of archived events the prepared dataset covers. */
  trainingWindowDays: intIn(1, 3650).default(DEFAULTS.training.trainingWindowDays),
});

export const RollbackAlarmsSchema = z.strictObject({
  /** Endpoint 5xx invocation errors, percent of invocations, that roll a deployment back. */
  maxErrorRatePercent: z
    .number()
    .min(0, { error: between(0, 100) })
    .max(100, { error: between(0, 100) })
    .default(DEFAULTS.deployment.rollbackAlarms.maxErrorRatePercent),
  /** Average model latency, ms, that rolls a deployment back. */
  maxModelLatencyMs: intIn(1, 600_000).default(DEFAULTS.deployment.rollbackAlarms.maxModelLatencyMs),
  /** Consecutive one-minute periods over threshold before the alarm fires. */
  evaluationPeriods: intIn(1, 60).default(DEFAULTS.deployment.rollbackAlarms.evaluationPeriods),
});

export const DeploymentSpecSchema = z.strictObject({
  /** SageMaker endpoint serving the model; default: the model id. */
  endpointName: z
    .string()
    .max(63, { error: "must be at most 63 characters" })
    .regex(ENDPOINT_NAME, { error: "must be 1-63 alphanumerics or hyphens" })
    .optional(),
  instanceType: instanceType.default(DEFAULTS.deployment.instanceType),
  instanceCount: intIn(1, 100).default(DEFAULTS.deployment.instanceCount),
  /**
   * Name of the endpoint's production variant. A blue/green update must keep the variant name of the
   * live endpoint config (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html),
   * and the rollback alarms, created at synth time, watch this variant's metrics: it must be known here.
   */
  variantName: z
    .string()
    .regex(VARIANT_NAME, { error: "must be 1-63 alphanumerics or inner hyphens (a SageMaker variant name)" })
    .default(DEFAULTS.deployment.variantName),
  /** Blue/green traffic shifting: all at once, a canary step then the rest, or linear steps. */
  strategy: oneOf(["all-at-once", "canary", "linear"]).default(DEFAULTS.deployment.strategy),
  /**
   * Canary: percent of capacity shifted first. SageMaker: at most 50 % of the variant's instances
   * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html).
   */
  canarySize: intIn(SAGEMAKER_LIMITS.canarySize.min, SAGEMAKER_LIMITS.canarySize.max).default(
    DEFAULTS.deployment.canarySize,
  ),
  /** Linear: percent of capacity shifted per step. SageMaker: 10-50 % of the variant's instances (same page). */
  linearStepSize: intIn(SAGEMAKER_LIMITS.linearStepSize.min, SAGEMAKER_LIMITS.linearStepSize.max).default(
    DEFAULTS.deployment.linearStepSize,
  ),
  /** Wait between traffic shifts while the rollback alarms watch (SageMaker WaitIntervalInSeconds, 0-3600 s). */
  bakeTimeMinutes: intIn(0, 60).default(DEFAULTS.deployment.bakeTimeMinutes),
  /** Old fleet kept after full shift, for a fast rollback (SageMaker TerminationWaitInSeconds, 0-3600 s). */
  terminationWaitMinutes: intIn(0, 60).default(DEFAULTS.deployment.terminationWaitMinutes),
  /**
   * Whole deployment timeout (SageMaker MaximumExecutionTimeoutInSeconds, 600-28800 s; capped here at
   * 240 minutes). Must exceed the deployment's waits: see {@link deploymentWaitMinutes}.
   */
  maxExecutionMinutes: intIn(10, 240).default(DEFAULTS.deployment.maxExecutionMinutes),
  rollbackAlarms: RollbackAlarmsSchema.prefault({}),
});

export const ModelConfigSchema = z.strictObject({
  id: z.string({ error: "is required" }).max(32, { error: "must be at most 32 characters" }).regex(MODEL_ID, {
    error:
      "must be 1-32 letters, digits or inner hyphens (it is used in keys, S3 prefixes and SageMaker names)",
  }),
  task: oneOf(["binary", "multiclass", "regression"]),
  /** Class labels; required for multiclass, optional (2 labels) for binary, forbidden for regression. */
  classes: z.array(z.string().min(1)).optional(),
  features: z.array(FeatureSchema).min(1, { error: "must list at least one feature" }),
  /** How long a prediction waits for its label (DynamoDB TTL of pending predictions). */
  labelHorizonHours: intIn(1, 24 * 90).default(DEFAULTS.model.labelHorizonHours),
  /** Width of a statistics bucket; must divide a day. */
  bucketMinutes: intIn(1, 1440)
    .refine((m) => 1440 % m === 0, { error: "must divide 1440 (a day) evenly, e.g. 5, 15, 60" })
    .default(DEFAULTS.model.bucketMinutes),
  /**
   * Keep each prediction (and a marker per counted label) until the label horizon, for label joins and
   * duplicate detection across batches: about one write and one read unit per prediction and per label.
   * Off: labels must carry `prediction` and `predictionTimestamp` (or arrive in their prediction's batch),
   * and duplicate requestIds are only detected within a batch.
   */
  predictionIndex: z.boolean().default(DEFAULTS.model.predictionIndex),
  policy: TriggerPolicySchema.prefault({}),
  training: TrainingSpecSchema,
  deployment: DeploymentSpecSchema.prefault({}),
  validationGate: ValidationGateSchema.prefault({}),
  approval: ApprovalSchema.prefault({}),
});

export const ScheduleSchema = z.strictObject({
  /** EventBridge Scheduler expression of the evaluator: rate(...) or 6-field cron(...). */
  expression: scheduleExpression.default(DEFAULTS.schedule.expression),
  timezone: TimezoneSchema.default(DEFAULTS.schedule.timezone),
  /** Scheduler flexible time window (0 = off). */
  flexibleWindowMinutes: intIn(0, 1440).default(DEFAULTS.schedule.flexibleWindowMinutes),
  /** Scheduler retries of a failed invocation before the event goes to the dead-letter queue. */
  retryAttempts: intIn(0, 185).default(DEFAULTS.schedule.retryAttempts),
  maxEventAgeMinutes: intIn(1, 1440).default(DEFAULTS.schedule.maxEventAgeMinutes),
  memoryMb: intIn(128, 10_240).default(DEFAULTS.schedule.memoryMb),
  timeoutSeconds: intIn(10, 900).default(DEFAULTS.schedule.timeoutSeconds),
});

export const AlertsSchema = z.strictObject({
  email: z.array(z.email({ error: "must be an e-mail address" })).default([]),
  /** SQS queue ARNs subscribed to the alert topic. */
  sqs: z
    .array(
      z.string().regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/, {
        error: "must be an SQS queue ARN",
      }),
    )
    .default([]),
  https: z.array(z.url({ protocol: /^https$/, error: "must be an https:// URL" })).default([]),
  iteratorAgeMinutes: intIn(1, 10_080).default(DEFAULTS.alerts.iteratorAgeMinutes),
  quarantineRatePercent: z
    .number()
    .gt(0, { error: "must be > 0 and <= 100" })
    .max(100, { error: "must be > 0 and <= 100" })
    .default(DEFAULTS.alerts.quarantineRatePercent),
  dlqDepth: intIn(1, 1_000_000).default(DEFAULTS.alerts.dlqDepth),
  lambdaErrors: intIn(1, 1_000_000).default(DEFAULTS.alerts.lambdaErrors),
  workflowFailures: intIn(1, 1_000).default(DEFAULTS.alerts.workflowFailures),
  /** Quarantined records in 5 minutes that name no readable model id (modelId `_unknown`). */
  unattributedQuarantined: intIn(1, 1_000_000).default(DEFAULTS.alerts.unattributedQuarantined),
});

export const RetentionSchema = z
  .strictObject({
    /** Archived raw events expire after this many days (0 = keep forever). */
    archiveDays: intIn(0, 36_500).default(DEFAULTS.retention.archiveDays),
    /** Transition to S3 Standard-IA (0 = never; S3 requires >= 30). */
    archiveInfrequentAccessDays: z
      .number()
      .int({ error: "must be an integer" })
      .refine((d) => d === 0 || d >= 30, { error: "must be 0 (off) or at least 30 (S3 minimum)" })
      .default(DEFAULTS.retention.archiveInfrequentAccessDays),
    /** Transition to S3 Glacier Flexible Retrieval (0 = never). */
    archiveGlacierDays: intIn(0, 36_500).default(DEFAULTS.retention.archiveGlacierDays),
    /** Kinesis stream retention. */
    streamHours: intIn(24, 8760).default(DEFAULTS.retention.streamHours),
    /** CloudWatch log retention of every Lambda, Firehose and the state machine. */
    logDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        error: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
      })
      .default(DEFAULTS.retention.logDays),
    /** Quarantined records expire after this many days (DynamoDB TTL). */
    quarantineDays: intIn(1, 3650).default(DEFAULTS.retention.quarantineDays),
  })
  .superRefine((r, ctx) => {
    const transitions = [
      ["archiveInfrequentAccessDays", r.archiveInfrequentAccessDays],
      ["archiveGlacierDays", r.archiveGlacierDays],
    ] as const;
    for (const [field, days] of transitions) {
      if (r.archiveDays > 0 && days > 0 && days >= r.archiveDays)
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `must be less than archiveDays (${r.archiveDays})`,
        });
    }
    if (
      r.archiveInfrequentAccessDays > 0 &&
      r.archiveGlacierDays > 0 &&
      r.archiveGlacierDays < r.archiveInfrequentAccessDays + 30
    )
      ctx.addIssue({
        code: "custom",
        path: ["archiveGlacierDays"],
        message:
          "must be at least 30 days after archiveInfrequentAccessDays (S3 minimum stay in Standard-IA)",
      });
  });

export const IngestSchema = z.strictObject({
  /** Kinesis capacity mode: on-demand (scales itself) or provisioned (`shardCount` shards). */
  streamMode: oneOf(["on-demand", "provisioned"]).default(DEFAULTS.ingest.streamMode),
  shardCount: intIn(1, 500).default(DEFAULTS.ingest.shardCount),
  batchSize: intIn(1, 10_000).default(DEFAULTS.ingest.batchSize),
  maxBatchingWindowSeconds: intIn(0, 300).default(DEFAULTS.ingest.maxBatchingWindowSeconds),
  retryAttempts: intIn(0, 10_000).default(DEFAULTS.ingest.retryAttempts),
  maxRecordAgeSeconds: intIn(60, 604_800).default(DEFAULTS.ingest.maxRecordAgeSeconds),
  bisectBatchOnError: z.boolean().default(DEFAULTS.ingest.bisectBatchOnError),
  memoryMb: intIn(128, 10_240).default(DEFAULTS.ingest.memoryMb),
  timeoutSeconds: intIn(10, 900).default(DEFAULTS.ingest.timeoutSeconds),
  /** Larger records are quarantined (reason `record-too-large`) instead of parsed. */
  maxRecordBytes: intIn(1024, 1_048_576).default(DEFAULTS.ingest.maxRecordBytes),
  /**
   * Producer clock skew tolerated: events timed more than this after their Kinesis arrival are
   * quarantined (reason `timestamp-in-future`). Ingest Lambda `MAX_FUTURE_SKEW_SECONDS`.
   */
  maxFutureSkewSeconds: intIn(0, 86_400).default(DEFAULTS.ingest.maxFutureSkewSeconds),
  /**
   * Events timed more than this before their Kinesis arrival (a replayed backlog, a stuck producer) are
   * quarantined (reason `timestamp-too-old`) instead of rewriting old statistics buckets. Ingest Lambda
   * `STATS_RETENTION_DAYS`.
   */
  maxEventAgeDays: intIn(1, 3650).default(DEFAULTS.ingest.maxEventAgeDays),
  firehoseBufferSeconds: intIn(60, 900).default(DEFAULTS.ingest.firehoseBufferSeconds),
  /** Firehose buffer size; dynamic partitioning requires at least 64 MiB. */
  firehoseBufferMb: intIn(64, 128).default(DEFAULTS.ingest.firehoseBufferMb),
});

type ModelInput = z.output<typeof ModelConfigSchema>;

/**
 * The dataset preparation lists the archive's day prefixes (`<modelId>/yyyy/MM/dd/`, arrival day, UTC)
 * from the day the training window starts: the oldest object it reads is up to one day older than the
 * window.
 */
export const ARCHIVE_DAY_PREFIX_MARGIN_DAYS = 1;

/**
 * For how many days archived events stay readable by the dataset preparation: until the Glacier
 * transition (Glacier Flexible Retrieval objects need a restore before a GET) or the expiry, whichever
 * comes first; undefined when neither is set. Lifecycle days count from an object's creation
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Transition.html).
 */
export function readableArchiveDays(retention: {
  readonly archiveGlacierDays: number;
  readonly archiveDays: number;
}): { days: number; field: "archiveGlacierDays" | "archiveDays" } | undefined {
  if (retention.archiveGlacierDays > 0)
    return { days: retention.archiveGlacierDays, field: "archiveGlacierDays" };
  if (retention.archiveDays > 0) return { days: retention.archiveDays, field: "archiveDays" };
  return undefined;
}
type DeploymentSpec = z.output<typeof DeploymentSpecSchema>;

/**
 * The traffic shifting SageMaker is asked for: the configured strategy, except that canary and linear
 * fall back to all-at-once on fewer than {@link SAGEMAKER_LIMITS}.minInstancesForStepwiseShifting
 * instances (no step of one instance is at most 50 % of the fleet). A fallback rather than an error keeps
 * the defaults (canary, one instance) deployable; synth warns about it (lib/stacks/stateless-stack.ts).
 */
export function effectiveStrategy(
  deployment: Pick<DeploymentSpec, "strategy" | "instanceCount">,
): DeploymentSpec["strategy"] {
  return deployment.strategy !== "all-at-once" &&
    deployment.instanceCount < SAGEMAKER_LIMITS.minInstancesForStepwiseShifting
    ? "all-at-once"
    : deployment.strategy;
}

/**
 * What a blue/green deployment waits for, in minutes, with the strategy as configured (so that adding
 * instances later never makes a valid configuration invalid). SageMaker bakes after every traffic shift,
 * the last one being the final baking period: one shift all at once, two for a canary, ceil(100 / step)
 * for linear; then it keeps the old fleet for the termination wait. MaximumExecutionTimeoutInSeconds must
 * be larger than that total
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_BlueGreenUpdatePolicy.html), and the
 * rest of it is what provisioning the new fleet may take.
 */
export function deploymentWaitMinutes(
  deployment: Pick<
    DeploymentSpec,
    "strategy" | "linearStepSize" | "bakeTimeMinutes" | "terminationWaitMinutes"
  >,
): { bakingPeriods: number; total: number } {
  const bakingPeriods =
    deployment.strategy === "canary"
      ? 2
      : deployment.strategy === "linear"
        ? Math.ceil(100 / deployment.linearStepSize)
        : 1;
  return {
    bakingPeriods,
    total: bakingPeriods * deployment.bakeTimeMinutes + deployment.terminationWaitMinutes,
  };
}

/** Cross-field checks of one model; paths are relative to the model. */
function checkModel(
  model: ModelInput,
  ctx: { addIssue: (i: { path: (string | number)[]; message: string }) => void },
) {
  if (model.task === "multiclass" && (model.classes === undefined || model.classes.length < 3))
    ctx.addIssue({ path: ["classes"], message: "multiclass models must list at least 3 classes" });
  if (model.task === "binary" && model.classes !== undefined && model.classes.length !== 2)
    ctx.addIssue({ path: ["classes"], message: "binary models list exactly 2 classes (or none for 0/1)" });
  if (model.task === "regression" && model.classes !== undefined)
    ctx.addIssue({ path: ["classes"], message: "regression models have no classes" });
  if (model.classes !== undefined && new Set(model.classes).size !== model.classes.length)
    ctx.addIssue({ path: ["classes"], message: "class labels must be unique" });
  const seen = new Map<string, number>();
  model.features.forEach((f, i) => {
    const first = seen.get(f.name);
    if (first !== undefined)
      ctx.addIssue({
        path: ["features", i, "name"],
        message: `duplicate feature "${f.name}" (also features[${first}])`,
      });
    else seen.set(f.name, i);
  });
  for (const name of Object.keys(model.policy.signals.drift.features)) {
    if (!seen.has(name))
      ctx.addIssue({
        path: ["policy", "signals", "drift", "features", name],
        message: `unknown feature "${name}" (not in the model's features)`,
      });
  }
  const deployment = model.deployment;
  const waits = deploymentWaitMinutes(deployment);
  if (waits.total >= deployment.maxExecutionMinutes)
    ctx.addIssue({
      path: ["deployment", "maxExecutionMinutes"],
      message: `must exceed the deployment's waits, ${waits.total} min: ${waits.bakingPeriods} baking period(s) of bakeTimeMinutes (${deployment.bakeTimeMinutes}) for strategy ${deployment.strategy}${deployment.strategy === "linear" ? ` with linearStepSize ${deployment.linearStepSize}` : ""}, plus terminationWaitMinutes (${deployment.terminationWaitMinutes}); SageMaker stops a deployment that runs longer`,
    });
  const allowed: readonly string[] = TASK_METRICS[model.task];
  const performance = model.policy.signals.performance;
  if (performance.enabled && performance.metric !== undefined && !allowed.includes(performance.metric))
    ctx.addIssue({
      path: ["policy", "signals", "performance", "metric"],
      message: `"${performance.metric}" is not defined for ${model.task} models (use one of ${allowed.join(", ")})`,
    });
  if (model.validationGate.metric !== undefined && !allowed.includes(model.validationGate.metric))
    ctx.addIssue({
      path: ["validationGate", "metric"],
      message: `"${model.validationGate.metric}" is not defined for ${model.task} models (use one of ${allowed.join(", ")})`,
    });
}

export const DeploymentConfigSchema = z
  .strictObject({
    /** Prefix of the stack names (`<name>-Stateful`, `<name>-Stateless`). */
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, {
        error: "must start with a letter; letters, digits and hyphens",
      })
      .default(DEFAULTS.name),
    /** Target account/region; default: the CLI's (environment-agnostic stacks). */
    env: z
      .strictObject({
        account: z
          .string()
          .regex(/^\d{12}$/, { error: "must be a 12-digit AWS account id" })
          .optional(),
        region: z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "must be an AWS region like eu-west-1" })
          .optional(),
      })
      .optional(),
    /** Tags applied to every resource. */
    tags: z.record(z.string(), z.string()).default({}),
    models: z.array(ModelConfigSchema).min(1, { error: "must configure at least one model" }),
    schedule: ScheduleSchema.prefault({}),
    alerts: AlertsSchema.prefault({}),
    retention: RetentionSchema.prefault({}),
    ingest: IngestSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const ids = new Map<string, number>();
    const endpoints = new Map<string, number>();
    config.models.forEach((model, i) => {
      const first = ids.get(model.id);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "id"],
          message: `duplicate model id "${model.id}" (also models[${first}])`,
        });
      else ids.set(model.id, i);
      const endpoint = model.deployment.endpointName ?? model.id;
      const firstEndpoint = endpoints.get(endpoint);
      if (firstEndpoint !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "deployment", "endpointName"],
          message: `endpoint "${endpoint}" is already used by models[${firstEndpoint}]`,
        });
      else endpoints.set(endpoint, i);
      checkModel(model, {
        addIssue: (issue) => ctx.addIssue({ code: "custom", ...issue, path: ["models", i, ...issue.path] }),
      });
      const readable = readableArchiveDays(config.retention);
      if (readable && model.training.inputDataUri === undefined) {
        const maxWindow = readable.days - ARCHIVE_DAY_PREFIX_MARGIN_DAYS - 1;
        if (model.training.trainingWindowDays > maxWindow)
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "training", "trainingWindowDays"],
            message: `must be at most ${maxWindow} days: the dataset preparation reads whole day prefixes of the archive, back to trainingWindowDays + ${ARCHIVE_DAY_PREFIX_MARGIN_DAYS} days ago, and retention.${readable.field} (${readable.days}) ${readable.field === "archiveGlacierDays" ? "moves older events to Glacier Flexible Retrieval, which it cannot read without a restore" : "deletes older events"}`,
          });
      }
      // Seasonal control limits compare with evaluations at the same hour of the week, so the schedule
      // must come back to the same hours every week.
      const adaptive = model.policy.stability.adaptive;
      const period = ratePeriodMinutes(config.schedule.expression);
      if (adaptive.enabled && adaptive.seasonal && period !== undefined && (7 * 24 * 60) % period !== 0)
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "policy", "stability", "adaptive", "seasonal"],
          message: `needs evaluations at the same hours every week, but schedule.expression ${config.schedule.expression} does not divide a week; use a rate that does (e.g. rate(6 hours)) or a cron expression`,
        });
      // A label names its prediction's time; the ingest rejects it when that time is older than the
      // event age limit, so a longer horizon would quarantine labels the model is still waiting for.
      const maxAgeHours = config.ingest.maxEventAgeDays * 24;
      if (model.labelHorizonHours > maxAgeHours)
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "labelHorizonHours"],
          message: `must not exceed ingest.maxEventAgeDays (${config.ingest.maxEventAgeDays} days = ${maxAgeHours} h): later labels would be quarantined as timestamp-too-old`,
        });
    });
  });

/** Configuration as written (defaults optional). */
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;
/** Configuration with every default filled in. */
export type DeploymentConfig = z.output<typeof DeploymentConfigSchema>;
export type ModelConfig = DeploymentConfig["models"][number];

/** One problem of a configuration: the field's path (`models[0].deployment.canarySize`) and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Raised for an invalid configuration; the message has one `path: problem` line per issue. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `["models", 0, "deployment", "canarySize"]` -> `models[0].deployment.canarySize`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out || "(root)";
}

function toIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        issues.push({
          path: formatPath([...issue.path, key]),
          message: "unknown field (check the spelling)",
        });
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return issues;
}

/** Validates an already-parsed JSON value; throws {@link ConfigError} naming every invalid field. */
export function parseConfig(input: unknown, source = "inline configuration"): DeploymentConfig {
  const result = DeploymentConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(source, toIssues(result.error));
  return result.data;
}

/**
 * Loads the configuration from a JSON file path, or validates an object. Throws {@link ConfigError}
 * (naming the field path and the problem) for unreadable files, invalid JSON and invalid values.
 */
export function loadConfig(pathOrObject: string | object): DeploymentConfig {
  if (typeof pathOrObject !== "string") return parseConfig(pathOrObject);
  let text: string;
  try {
    text = readFileSync(pathOrObject, "utf8");
  } catch (error) {
    throw new ConfigError(pathOrObject, [
      { path: "(file)", message: `cannot read: ${(error as Error).message}` },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(pathOrObject, [
      { path: "(file)", message: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
  return parseConfig(json, pathOrObject);
}

/** Endpoint name of a model: the configured one, else the model id. */
export function endpointNameOf(model: ModelConfig): string {
  return model.deployment.endpointName ?? model.id;
}

/** Performance metric names known to the policy schema, re-exported for docs and tests. */
export const KNOWN_PERFORMANCE_METRICS = Object.keys(PERFORMANCE_METRICS);
