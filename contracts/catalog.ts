/**
 * The model catalog: every configured model as a {@link RuntimeModel}, built once at synth time from the
 * validated deployment configuration and bundled with each Lambda as the JSON file
 * {@link MODEL_CATALOG_FILE}. All three Lambdas (ingest, evaluator, workflow tasks) read the same file;
 * nothing is trimmed to fit an environment variable and the state machine carries no copy of it.
 * Reading it back validates it with the same schemas, so a catalog and a handler from different builds
 * fail loudly instead of silently disagreeing.
 */
import { z } from "zod";
import {
  ConfigError,
  type DeploymentConfig,
  effectiveStrategy,
  endpointNameOf,
  formatPath,
  type ModelConfig,
} from "./config";
import type { RuntimeModel } from "./model";
import { SEVERITIES, TriggerPolicySchema, ValidationGateSchema } from "./policy";

/** File name of the catalog inside every Lambda bundle (next to the handler code). */
export const MODEL_CATALOG_FILE = "model-catalog.json";

/** Version of the catalog document; bumped on any incompatible change. */
export const MODEL_CATALOG_VERSION = 1;

/** The catalog document. */
export interface ModelCatalog {
  readonly version: typeof MODEL_CATALOG_VERSION;
  readonly models: readonly RuntimeModel[];
}

/** Deployment-wide settings of the retraining workflow that end up in each model's plan. */
export interface CatalogOptions {
  /**
   * Interval between DescribeEndpoint polls while an endpoint update runs, in seconds.
   * @default 60
   */
  readonly endpointPollSeconds?: number;
  /**
   * Instance type of the batch transform jobs scoring champion and challenger on the holdout.
   * @default "ml.m5.large"
   */
  readonly scoringInstanceType?: string;
  /**
   * Register every promoted champion as an approved model package in a group named `<prefix><modelId>`.
   * @default - no model packages (the registry is the table's `CHAMPION#<version>` items)
   */
  readonly modelPackageGroupPrefix?: string;
}

/** Defaults of {@link CatalogOptions} and the polling margin, in one place. */
export const CATALOG_DEFAULTS = {
  endpointPollSeconds: 60,
  scoringInstanceType: "ml.m5.large",
  /** Margin of the endpoint polling budget over SageMaker's own deployment timeout. */
  pollMarginSeconds: 30 * 60,
  /** Approval timeout of the state machine when no model requires approval. */
  approvalTimeoutHours: 24,
} as const;

/** Names of the CloudWatch alarms that roll a blue/green deployment of a model back. */
export function rollbackAlarmNames(endpointName: string): { errors: string; latency: string } {
  return { errors: `${endpointName}-rollback-5xx-rate`, latency: `${endpointName}-rollback-model-latency` };
}

/**
 * SageMaker `DeploymentConfig` of a model: blue/green with the configured traffic shifting (all at once,
 * canary or linear, by capacity percent; all at once on a single instance, see `effectiveStrategy`),
 * bake time between shifts, old-fleet termination wait, and auto-rollback on the model's alarms.
 */
export function deploymentConfigOf(model: ModelConfig): Record<string, unknown> {
  const deployment = model.deployment;
  const wait = deployment.bakeTimeMinutes * 60;
  const strategy = effectiveStrategy(deployment);
  const routing: Record<string, unknown> =
    strategy === "canary"
      ? {
          Type: "CANARY",
          CanarySize: { Type: "CAPACITY_PERCENT", Value: deployment.canarySize },
          WaitIntervalInSeconds: wait,
        }
      : strategy === "linear"
        ? {
            Type: "LINEAR",
            LinearStepSize: { Type: "CAPACITY_PERCENT", Value: deployment.linearStepSize },
            WaitIntervalInSeconds: wait,
          }
        : { Type: "ALL_AT_ONCE", WaitIntervalInSeconds: wait };
  const alarms = rollbackAlarmNames(endpointNameOf(model));
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: routing,
      TerminationWaitInSeconds: deployment.terminationWaitMinutes * 60,
      MaximumExecutionTimeoutInSeconds: deployment.maxExecutionMinutes * 60,
    },
    AutoRollbackConfiguration: { Alarms: [{ AlarmName: alarms.errors }, { AlarmName: alarms.latency }] },
  };
}

const requiresApproval = (model: ModelConfig): boolean => model.approval.required !== "never";

/**
 * The state machine's approval timeout, in hours: one RequestApproval state serves every model, so it
 * waits as long as the longest timeout of the models that require approval.
 */
export function approvalTimeoutHours(models: readonly ModelConfig[]): number {
  const timeouts = models.filter(requiresApproval).map((m) => m.approval.timeoutHours);
  return timeouts.length > 0 ? Math.max(...timeouts) : CATALOG_DEFAULTS.approvalTimeoutHours;
}

/** The runtime model of one configured model. */
export function runtimeModelOf(
  model: ModelConfig,
  options: CatalogOptions,
  effectiveApprovalHours: number,
): RuntimeModel {
  const training = model.training;
  const deployment = model.deployment;
  const pollSeconds = options.endpointPollSeconds ?? CATALOG_DEFAULTS.endpointPollSeconds;
  const pollBudgetSeconds = deployment.maxExecutionMinutes * 60 + CATALOG_DEFAULTS.pollMarginSeconds;
  return {
    id: model.id,
    task: model.task,
    ...(model.classes ? { classes: model.classes } : {}),
    features: model.features.map((f) => ({
      name: f.name,
      kind: f.kind,
      ...(f.importance !== undefined ? { importance: f.importance } : {}),
    })),
    labelHorizonHours: model.labelHorizonHours,
    bucketMinutes: model.bucketMinutes,
    predictionIndex: model.predictionIndex,
    policy: model.policy,
    retraining: {
      trainingWindowDays: training.trainingWindowDays,
      ...(training.inputDataUri ? { inputDataUri: training.inputDataUri } : {}),
      ...(options.modelPackageGroupPrefix !== undefined
        ? { modelPackageGroup: `${options.modelPackageGroupPrefix}${model.id}` }
        : {}),
      training: {
        image: training.imageUri,
        instanceType: training.instanceType,
        instanceCount: training.instanceCount,
        volumeSizeGb: training.volumeSizeGb,
        maxRuntimeSeconds: training.maxRuntimeMinutes * 60,
        hyperparameters: training.hyperparameters,
      },
      scoring: { instanceType: options.scoringInstanceType ?? CATALOG_DEFAULTS.scoringInstanceType },
      deployment: {
        image: training.inferenceImageUri ?? training.imageUri,
        endpointName: endpointNameOf(model),
        variantName: deployment.variantName,
        instanceType: deployment.instanceType,
        initialInstanceCount: deployment.instanceCount,
        deploymentConfig: deploymentConfigOf(model),
        rollbackAlarms: deployment.rollbackAlarms,
        pollSeconds,
        maxPolls: Math.ceil(pollBudgetSeconds / pollSeconds),
      },
      gate: model.validationGate,
      approval: {
        required: model.approval.required,
        severities: model.approval.severities,
        timeoutHours: effectiveApprovalHours,
      },
    },
  };
}

/** Builds the catalog of a validated deployment configuration. */
export function buildModelCatalog(config: DeploymentConfig, options: CatalogOptions = {}): ModelCatalog {
  const approvalHours = approvalTimeoutHours(config.models);
  return {
    version: MODEL_CATALOG_VERSION,
    models: config.models.map((m) => runtimeModelOf(m, options, approvalHours)),
  };
}

const nonEmpty = z.string().min(1);
const positive = z.number().positive();

const RuntimeModelSchema = z.strictObject({
  id: nonEmpty,
  task: z.enum(["binary", "multiclass", "regression"]),
  classes: z.array(nonEmpty).optional(),
  features: z.array(
    z.strictObject({
      name: nonEmpty,
      kind: z.enum(["numeric", "categorical"]),
      importance: z.number().min(0).optional(),
    }),
  ),
  labelHorizonHours: positive,
  bucketMinutes: z.number().int().positive(),
  predictionIndex: z.boolean(),
  policy: TriggerPolicySchema,
  retraining: z.strictObject({
    trainingWindowDays: positive,
    inputDataUri: nonEmpty.optional(),
    modelPackageGroup: nonEmpty.optional(),
    training: z.strictObject({
      image: nonEmpty,
      instanceType: nonEmpty,
      instanceCount: z.number().int().positive(),
      volumeSizeGb: z.number().int().positive(),
      maxRuntimeSeconds: positive,
      hyperparameters: z.record(z.string(), z.string()),
    }),
    scoring: z.strictObject({ instanceType: nonEmpty }),
    deployment: z.strictObject({
      image: nonEmpty,
      endpointName: nonEmpty,
      variantName: nonEmpty,
      instanceType: nonEmpty,
      initialInstanceCount: z.number().int().positive(),
      deploymentConfig: z.record(z.string(), z.unknown()),
      rollbackAlarms: z.strictObject({
        maxErrorRatePercent: z.number().min(0),
        maxModelLatencyMs: positive,
        evaluationPeriods: z.number().int().positive(),
      }),
      pollSeconds: positive,
      maxPolls: z.number().int().positive(),
    }),
    gate: ValidationGateSchema,
    approval: z.strictObject({
      required: z.enum(["never", "always", "bySeverity"]),
      severities: z.array(z.enum(SEVERITIES)),
      timeoutHours: positive,
    }),
  }),
});

const ModelCatalogSchema = z.strictObject({
  version: z.literal(MODEL_CATALOG_VERSION),
  models: z.array(RuntimeModelSchema),
});

/**
 * Reads a catalog document back; throws {@link ConfigError} naming the field (`models[0].task: ...`) when
 * it is not valid JSON or does not match the schema.
 */
export function parseModelCatalog(json: string, source = MODEL_CATALOG_FILE): ModelCatalog {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(source, [
      { path: "(root)", message: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
  const result = ModelCatalogSchema.safeParse(value);
  if (!result.success)
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  return result.data as ModelCatalog;
}
