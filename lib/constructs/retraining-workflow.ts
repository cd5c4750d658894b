import { ArnFormat, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { type IFunction, Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { DefinitionBody, LogLevel, StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { MODEL_CATALOG_FILE, type ModelCatalog, rollbackAlarmNames } from "../../contracts/catalog";
import { SERVICE_NAMES } from "../../contracts/telemetry";
import { DEFAULT_ARTIFACTS_PREFIX, DEFAULT_DATASETS_PREFIX } from "../../contracts/workflow";
import { NodeFunction } from "./node-function";
import { buildRetrainingWorkflow, definitionSubstitutions, workflowTimeouts } from "./workflow/definition";
import type { IamGrant } from "./workflow/grants";
import { workflowResources } from "./workflow/resources";

/** Properties of {@link RetrainingWorkflow}. */
export interface RetrainingWorkflowProps {
  /** The single table: model state, lease, registry (`CHAMPION#`) and baselines. */
  readonly table: ITable;
  /** Alert topic: approval requests, success and failure messages. */
  readonly topic: ITopic;
  /** Event archive written by Firehose under `<modelId>/yyyy/MM/dd/`; also holds datasets and artifacts. */
  readonly archiveBucket: IBucket;
  /** The model catalog (contracts/catalog.ts): every model in it can be retrained; bundled with the task Lambda. */
  readonly catalog: ModelCatalog;
  /**
   * Task Lambda running lambdas/handlers/workflow-tasks.ts. When given, the caller is responsible for
   * its environment; the construct still grants it what the tasks need (if it is a `Function`).
   * @default - a NodeFunction bundling lambdas/handlers/workflow-tasks.ts
   */
  readonly taskFunction?: IFunction;
  /**
   * Prefix of prepared datasets in the archive bucket (read by the SageMaker execution role).
   * @default "retraining/datasets/"
   */
  readonly datasetsPrefix?: string;
  /**
   * Prefix of model artifacts and batch-transform scores (the only prefix SageMaker may write).
   * @default "retraining/artifacts/"
   */
  readonly artifactsPrefix?: string;
  /**
   * Retention of the state machine's execution log group and of the default task Lambda's log group
   * (the deployment configuration's `retention.logDays` covers both).
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/** Defaults of {@link RetrainingWorkflowProps}, in one place. */
export const RETRAINING_WORKFLOW_DEFAULTS = {
  datasetsPrefix: DEFAULT_DATASETS_PREFIX,
  artifactsPrefix: DEFAULT_ARTIFACTS_PREFIX,
  logRetention: RetentionDays.THREE_MONTHS,
} as const;

/** `123.dkr.ecr.eu-west-1.amazonaws.com/repo/name:tag` -> the repository ARN, when it is an ECR URI. */
export function ecrRepositoryArn(imageUri: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(imageUri);
  if (!m) return undefined;
  return `arn:aws:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}

function s3UriParts(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return { bucket: m?.[1] ?? "", key: m?.[2] ?? "" };
}

/**
 * The retraining state machine (built from the state builders of lib/constructs/workflow/) with its task
 * Lambda, the SageMaker execution role, and the per-model rollback alarms. Least privilege throughout:
 * SageMaker reads only the dataset and artifact prefixes and writes only the artifact prefix; the state
 * machine role gets exactly the grants its states declare (SageMaker resources only under the
 * configured models' name prefixes, only that role to pass).
 */
export class RetrainingWorkflow extends Construct {
  /** The retraining state machine; the evaluator starts one execution per retraining decision. */
  public readonly stateMachine: StateMachine;
  /** Role SageMaker assumes for training, transform jobs and hosting of the retrained models. */
  public readonly executionRole: Role;
  /** The task Lambda the state machine invokes. */
  public readonly taskFunction: IFunction;
  /** Rollback alarms per model id (errors, latency), watched by blue/green deployments. */
  public readonly rollbackAlarms: Readonly<Record<string, readonly Alarm[]>>;
  /** What the states declared and the state machine role was granted (besides CDK's logging and tracing). */
  public readonly stateGrants: readonly IamGrant[];

  constructor(scope: Construct, id: string, props: RetrainingWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const datasetsPrefix = props.datasetsPrefix ?? RETRAINING_WORKFLOW_DEFAULTS.datasetsPrefix;
    const artifactsPrefix = props.artifactsPrefix ?? RETRAINING_WORKFLOW_DEFAULTS.artifactsPrefix;
    const models = props.catalog.models;
    const bucket = props.archiveBucket;
    const sagemakerArn = (resource: string, name: string) =>
      stack.formatArn({ service: "sagemaker", resource, resourceName: name });

    // SageMaker execution role: datasets and artifacts only.
    this.executionRole = new Role(this, "SageMakerExecutionRole", {
      assumedBy: new ServicePrincipal("sagemaker.amazonaws.com"),
      description: "Retraining jobs and endpoints: reads prepared datasets, writes model artifacts",
    });
    const role = this.executionRole;
    role.addToPolicy(
      new PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [bucket.arnForObjects(`${datasetsPrefix}*`), bucket.arnForObjects(`${artifactsPrefix}*`)],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [bucket.arnForObjects(`${artifactsPrefix}*`)],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": [`${datasetsPrefix}*`, `${artifactsPrefix}*`] } },
      }),
    );
    bucket.encryptionKey?.grantEncryptDecrypt(role);
    const repositories = [
      ...new Set(
        models
          .flatMap((m) => [m.retraining.training.image, m.retraining.deployment.image])
          .map(ecrRepositoryArn)
          .filter((a): a is string => a !== undefined),
      ),
    ];
    if (repositories.length > 0) {
      role.addToPolicy(
        new PolicyStatement({
          actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
          resources: repositories,
        }),
      );
    }
    role.addToPolicy(new PolicyStatement({ actions: ["ecr:GetAuthorizationToken"], resources: ["*"] }));
    role.addToPolicy(
      new PolicyStatement({
        actions: [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
        ],
        resources: [
          stack.formatArn({
            service: "logs",
            resource: "log-group",
            resourceName: "/aws/sagemaker/*",
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        conditions: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
      }),
    );

    const logRetention = props.logRetention ?? RETRAINING_WORKFLOW_DEFAULTS.logRetention;

    // Task Lambda.
    if (props.taskFunction) {
      this.taskFunction = props.taskFunction;
    } else {
      this.taskFunction = new NodeFunction(this, "Tasks", {
        entry: "lambdas/handlers/workflow-tasks.ts",
        bundledFiles: { [MODEL_CATALOG_FILE]: JSON.stringify(props.catalog) },
        serviceName: SERVICE_NAMES.workflow,
        description:
          "Retraining workflow tasks: lease, dataset, challenger evaluation, promotion, failure alert",
        memorySize: 2048,
        timeout: Duration.minutes(15),
        logRetention,
      }).function;
    }
    if (this.taskFunction instanceof LambdaFunction) {
      this.taskFunction.addEnvironment("TABLE_NAME", props.table.tableName);
      this.taskFunction.addEnvironment("ARCHIVE_BUCKET", bucket.bucketName);
      this.taskFunction.addEnvironment("DATASETS_PREFIX", datasetsPrefix);
      this.taskFunction.addEnvironment("ARTIFACTS_PREFIX", artifactsPrefix);
    }
    const fn = this.taskFunction;
    props.table.grantReadWriteData(fn);
    const readPrefixes = [...models.map((m) => `${m.id}/*`), `${datasetsPrefix}*`, `${artifactsPrefix}*`];
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:GetObject"],
        resources: readPrefixes.map((p) => bucket.arnForObjects(p)),
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [bucket.arnForObjects(`${datasetsPrefix}*`)],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": readPrefixes } },
      }),
    );
    if (bucket.encryptionKey) bucket.encryptionKey.grantEncryptDecrypt(fn);
    for (const m of models) {
      if (!m.retraining.inputDataUri) continue;
      const { bucket: b, key } = s3UriParts(m.retraining.inputDataUri);
      const prefix = key.replace(/\/?$/, "/");
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ["s3:GetObject"], resources: [`arn:aws:s3:::${b}/${prefix}*`] }),
      );
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ["s3:ListBucket"],
          resources: [`arn:aws:s3:::${b}`],
          conditions: { StringLike: { "s3:prefix": [`${prefix}*`] } },
        }),
      );
    }
    const endpointArns = models.map((m) =>
      sagemakerArn("endpoint", m.retraining.deployment.endpointName.toLowerCase()),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ["sagemaker:DescribeEndpoint"], resources: endpointArns }),
    );
    // Which model the endpoint serves (the champion to score): configs this workflow created.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["sagemaker:DescribeEndpointConfig"],
        resources: models.map((m) => sagemakerArn("endpoint-config", `${m.id.toLowerCase()}-*`)),
      }),
    );
    // A failed run deletes its challenger model and endpoint config (names `<modelId>-<time>`).
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["sagemaker:DeleteModel", "sagemaker:DeleteEndpointConfig"],
        resources: models.flatMap((m) => [
          sagemakerArn("model", `${m.id.toLowerCase()}-*`),
          sagemakerArn("endpoint-config", `${m.id.toLowerCase()}-*`),
        ]),
      }),
    );
    const groups = models
      .map((m) => m.retraining.modelPackageGroup?.toLowerCase())
      .filter((g): g is string => g !== undefined);
    if (groups.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ["sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage"],
          resources: [
            ...groups.map((g) => sagemakerArn("model-package-group", g)),
            ...groups.map((g) => sagemakerArn("model-package", `${g}/*`)),
          ],
        }),
      );
    }

    // Rollback alarms watched by SageMaker during blue/green deployments.
    const alarms: Record<string, Alarm[]> = {};
    for (const m of models) {
      const endpointName = m.retraining.deployment.endpointName;
      const dims = { EndpointName: endpointName, VariantName: "AllTraffic" };
      const names = rollbackAlarmNames(endpointName);
      const r = m.retraining.deployment.rollbackAlarms;
      const metric = (metricName: string, statistic: string) =>
        new Metric({
          namespace: "AWS/SageMaker",
          metricName,
          dimensionsMap: dims,
          statistic,
          period: Duration.minutes(1),
        });
      alarms[m.id] = [
        new Alarm(this, `RollbackErrors-${m.id}`, {
          alarmName: names.errors,
          alarmDescription: `5xx error rate of endpoint ${endpointName} above ${r.maxErrorRatePercent}%: blue/green deployments roll back`,
          metric: new MathExpression({
            expression: "100 * IF(invocations > 0, errors / invocations, 0)",
            usingMetrics: {
              errors: metric("Invocation5XXErrors", "Sum"),
              invocations: metric("Invocations", "Sum"),
            },
            period: Duration.minutes(1),
          }),
          threshold: r.maxErrorRatePercent,
          evaluationPeriods: r.evaluationPeriods,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        new Alarm(this, `RollbackLatency-${m.id}`, {
          alarmName: names.latency,
          alarmDescription: `Model latency of endpoint ${endpointName} above ${r.maxModelLatencyMs} ms: blue/green deployments roll back`,
          // ModelLatency is reported in microseconds.
          metric: metric("ModelLatency", "Average"),
          threshold: r.maxModelLatencyMs * 1000,
          evaluationPeriods: r.evaluationPeriods,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      ];
    }
    this.rollbackAlarms = alarms;
    // SageMaker reads the rollback alarms during blue/green deployments (deployment guardrails).
    const alarmArns = Object.values(alarms).flatMap((list) => list.map((a) => a.alarmArn));
    if (alarmArns.length > 0) {
      role.addToPolicy(new PolicyStatement({ actions: ["cloudwatch:DescribeAlarms"], resources: alarmArns }));
    }

    const resources = workflowResources(
      models,
      (service, resource, resourceName) => stack.formatArn({ service, resource, resourceName }),
      {
        taskFunctionArn: fn.functionArn,
        executionRoleArn: role.roleArn,
        topicArn: props.topic.topicArn,
        topicKeyArn: props.topic.masterKey?.keyArn,
        rollbackAlarmArns: alarmArns,
      },
    );
    // Task timeouts are static (see WorkflowTimeouts): the longest of all models.
    const { definition, grants } = buildRetrainingWorkflow(resources, workflowTimeouts(models));
    const logGroup = new LogGroup(this, "ExecutionLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, "StateMachine", {
      definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: definitionSubstitutions(resources),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    for (const grant of grants) {
      this.stateMachine.addToRolePolicy(
        new PolicyStatement({
          actions: [...grant.actions],
          resources: [...grant.resources],
          ...(grant.conditions ? { conditions: grant.conditions } : {}),
        }),
      );
    }
    this.stateGrants = grants;
  }
}
