/**
 * The retraining workflow construct in a small synthesized stack, with two test models: for the
 * construct's template assertions (test/infra) and the runs of its state machine (test/workflow, and
 * test/integration where a run uses the evaluator's DynamoDB repository).
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AttributeType, Table } from "aws-cdk-lib/aws-dynamodb";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { Topic } from "aws-cdk-lib/aws-sns";
import { buildModelCatalog } from "../../contracts/catalog";
import { type DeploymentConfigInput, parseConfig } from "../../contracts/config";
import { RetrainingWorkflow } from "../../lib/constructs/workflow/retraining-workflow";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

/** Two models: a binary one approved by severity, a regression one reading user data. */
export function testConfig(
  overrides: { approvalTimeoutHours?: number; churnVariantName?: string } = {},
): DeploymentConfigInput {
  return {
    models: [
      {
        id: "churn",
        task: "binary",
        features: [
          { name: "x", kind: "numeric" },
          { name: "plan", kind: "categorical" },
        ],
        labelHorizonHours: 72,
        training: {
          imageUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/churn-train:1`,
          hyperparameters: { max_depth: 4 },
          trainingWindowDays: 14,
          maxRuntimeMinutes: 60,
        },
        deployment: {
          endpointName: "churn-prod",
          strategy: "canary",
          canarySize: 10,
          bakeTimeMinutes: 5,
          instanceCount: 2,
          ...(overrides.churnVariantName !== undefined ? { variantName: overrides.churnVariantName } : {}),
        },
        validationGate: { metric: "auc" },
        approval: {
          required: "bySeverity",
          severities: ["retrain"],
          timeoutHours: overrides.approvalTimeoutHours ?? 24,
        },
      },
      {
        id: "eta",
        task: "regression",
        features: [{ name: "km", kind: "numeric" }],
        policy: { signals: { performance: { metric: "rmse" } } },
        training: {
          imageUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/eta-train:1`,
          inputDataUri: "s3://user-data-bucket/eta/training/",
        },
        deployment: { strategy: "linear", linearStepSize: 25, instanceCount: 2 },
        validationGate: { metric: "rmse" },
      },
    ],
  };
}

/** The runtime models of {@link testConfig} (what the task Lambda reads from its bundled catalog). */
export function testModels() {
  return buildModelCatalog(parseConfig(testConfig())).models;
}

/**
 * Synthesizes the construct in a small stack. `bundle: false` uses an inline stand-in for the task Lambda
 * (no esbuild), for tests that only execute the definition.
 */
export function synthWorkflow(opts: {
  bundle: boolean;
  approvalTimeoutHours?: number;
  modelPackageGroupPrefix?: string;
  /** churn's `deployment.variantName` (default: the configuration's default). */
  churnVariantName?: string;
}) {
  const app = new App();
  const stack = new Stack(app, "WorkflowTest", { env: { account: ACCOUNT, region: REGION } });
  const table = new Table(stack, "Table", {
    partitionKey: { name: "pk", type: AttributeType.STRING },
    sortKey: { name: "sk", type: AttributeType.STRING },
  });
  const topic = new Topic(stack, "Topic");
  const archiveBucket = new Bucket(stack, "Archive");
  const taskFunction = opts.bundle
    ? undefined
    : new LambdaFunction(stack, "InlineTasks", {
        runtime: Runtime.NODEJS_24_X,
        handler: "index.handler",
        code: Code.fromInline("exports.handler = async () => ({});"),
      });
  const config = parseConfig(
    testConfig({
      ...(opts.approvalTimeoutHours !== undefined ? { approvalTimeoutHours: opts.approvalTimeoutHours } : {}),
      ...(opts.churnVariantName !== undefined ? { churnVariantName: opts.churnVariantName } : {}),
    }),
  );
  const catalog = buildModelCatalog(
    config,
    opts.modelPackageGroupPrefix !== undefined
      ? { modelPackageGroupPrefix: opts.modelPackageGroupPrefix }
      : {},
  );
  const workflow = new RetrainingWorkflow(stack, "Workflow", {
    table,
    topic,
    archiveBucket,
    catalog,
    ...(taskFunction ? { taskFunction } : {}),
  });
  return { app, stack, workflow, template: Template.fromStack(stack), config, catalog };
}
