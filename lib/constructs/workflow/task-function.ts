/**
 * The task Lambda (lambdas/handlers/workflow-tasks.ts) and what it may touch: the table, the archive
 * (the models' event prefixes), the retraining bucket (datasets and artifacts; datasets are the only
 * thing it writes), the models' user data prefixes, the models' endpoints and the configs and models
 * runs created, and the models' package groups.
 */
import { Duration, Stack } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { type IFunction, Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { MODEL_CATALOG_FILE, type ModelCatalog } from "../../../contracts/catalog";
import { SERVICE_NAMES } from "../../../contracts/telemetry";
import { NodeFunction } from "../node-function";

/** What {@link workflowTaskFunction} needs. */
export interface WorkflowTaskFunctionProps {
  /** The single table: model state, lease, registry and baselines. */
  readonly table: ITable;
  /** Event archive: the tasks read the models' `<modelId>/` prefixes. */
  readonly archiveBucket: IBucket;
  /** Bucket of datasets (written by the tasks) and artifacts and scores (read). */
  readonly retrainingBucket: IBucket;
  /** The model catalog, bundled with the default function. */
  readonly catalog: ModelCatalog;
  /** Prefix of prepared datasets (the only prefix the tasks write). */
  readonly datasetsPrefix: string;
  /** Prefix of model artifacts and scores. */
  readonly artifactsPrefix: string;
  /** Retention of the default function's log group. */
  readonly logRetention: RetentionDays;
  /**
   * A function provided by the caller, who is then responsible for its code; it still gets the grants,
   * and the environment when it is a `Function`.
   * @default - a NodeFunction bundling lambdas/handlers/workflow-tasks.ts
   */
  readonly taskFunction?: IFunction;
}

function s3UriParts(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return { bucket: match?.[1] ?? "", key: match?.[2] ?? "" };
}

/**
 * The task Lambda, created in `scope` as `Tasks` unless given, with its environment and grants. Built in
 * the caller's scope (no wrapper construct) so that logical ids stay stable across refactorings.
 */
export function workflowTaskFunction(scope: Construct, props: WorkflowTaskFunctionProps): IFunction {
  const { archiveBucket: archive, retrainingBucket: retraining, datasetsPrefix, artifactsPrefix } = props;
  const models = props.catalog.models;
  const stack = Stack.of(scope);
  const sageMakerArn = (resource: string, name: string) =>
    stack.formatArn({ service: "sagemaker", resource, resourceName: name });

  const fn =
    props.taskFunction ??
    new NodeFunction(scope, "Tasks", {
      entry: "lambdas/handlers/workflow-tasks.ts",
      bundledFiles: { [MODEL_CATALOG_FILE]: JSON.stringify(props.catalog) },
      serviceName: SERVICE_NAMES.workflow,
      description:
        "Retraining workflow tasks: lease, dataset, challenger evaluation, promotion, failure alert",
      memorySize: 2048,
      timeout: Duration.minutes(15),
      logRetention: props.logRetention,
    }).function;
  if (fn instanceof LambdaFunction) {
    fn.addEnvironment("TABLE_NAME", props.table.tableName);
    fn.addEnvironment("ARCHIVE_BUCKET", archive.bucketName);
    fn.addEnvironment("RETRAINING_BUCKET", retraining.bucketName);
    fn.addEnvironment("DATASETS_PREFIX", datasetsPrefix);
    fn.addEnvironment("ARTIFACTS_PREFIX", artifactsPrefix);
  }

  props.table.grantReadWriteData(fn);
  // Reads: the models' archived events, and the datasets, artifacts and scores of their runs. With one
  // bucket for both (the construct's default) the prefixes end up on the same bucket ARN.
  const reads = [
    { bucket: archive, prefixes: models.map((model) => `${model.id}/*`) },
    { bucket: retraining, prefixes: [`${datasetsPrefix}*`, `${artifactsPrefix}*`] },
  ];
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ["s3:GetObject"],
      resources: reads.flatMap((r) => r.prefixes.map((prefix) => r.bucket.arnForObjects(prefix))),
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ["s3:PutObject"],
      resources: [retraining.arnForObjects(`${datasetsPrefix}*`)],
    }),
  );
  const listed =
    archive === retraining ? [{ bucket: archive, prefixes: reads.flatMap((r) => r.prefixes) }] : reads;
  for (const { bucket, prefixes } of listed)
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": prefixes } },
      }),
    );
  for (const key of new Set([archive.encryptionKey, retraining.encryptionKey])) key?.grantEncryptDecrypt(fn);
  for (const model of models) {
    if (!model.retraining.inputDataUri) continue;
    const { bucket: userBucket, key } = s3UriParts(model.retraining.inputDataUri);
    const prefix = key.replace(/\/?$/, "/");
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [`arn:aws:s3:::${userBucket}/${prefix}*`],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: [`arn:aws:s3:::${userBucket}`],
        conditions: { StringLike: { "s3:prefix": [`${prefix}*`] } },
      }),
    );
  }
  const endpointArns = models.map((model) =>
    sageMakerArn("endpoint", model.retraining.deployment.endpointName.toLowerCase()),
  );
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ["sagemaker:DescribeEndpoint"], resources: endpointArns }),
  );
  // Which model the endpoint serves (the champion to score): configs this workflow created.
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ["sagemaker:DescribeEndpointConfig"],
      resources: models.map((model) => sageMakerArn("endpoint-config", `${model.id.toLowerCase()}-*`)),
    }),
  );
  // A failed run deletes its challenger model and endpoint config (names `<modelId>-<time>`).
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ["sagemaker:DeleteModel", "sagemaker:DeleteEndpointConfig"],
      resources: models.flatMap((model) => [
        sageMakerArn("model", `${model.id.toLowerCase()}-*`),
        sageMakerArn("endpoint-config", `${model.id.toLowerCase()}-*`),
      ]),
    }),
  );
  const groups = models
    .map((model) => model.retraining.modelPackageGroup?.toLowerCase())
    .filter((group): group is string => group !== undefined);
  if (groups.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage"],
        resources: [
          ...groups.map((group) => sageMakerArn("model-package-group", group)),
          ...groups.map((group) => sageMakerArn("model-package", `${group}/*`)),
        ],
      }),
    );
  }
  return fn;
}
