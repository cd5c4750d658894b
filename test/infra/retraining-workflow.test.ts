import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import aslValidator from "asl-validator";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { deploymentConfigOf, MODEL_CATALOG_FILE, parseModelCatalog } from "../../contracts/catalog";
import { STATE } from "../../contracts/workflow";
import { ecrRepositoryArn } from "../../lib/constructs/workflow/execution-role";
import { aslFromTemplate } from "../../local/asl";
import { ACCOUNT, REGION, synthWorkflow } from "../support/workflow-stack";

// One synthesis per file, with the real esbuild bundling of the task Lambda.
const { app, template, config, catalog } = synthWorkflow({
  bundle: true,
  modelPackageGroupPrefix: "retrain-",
});
const json = template.toJSON();
const asl = aslFromTemplate(json) as { States: Record<string, Record<string, unknown>>; StartAt: string };

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
function statementsOf(roleLogicalIdPrefix: string): Statement[] {
  type Resource = {
    Type: string;
    Properties: { Roles?: { Ref: string }[]; PolicyDocument?: { Statement: Statement[] } };
  };
  const policies = Object.values(json.Resources as Record<string, Resource>).filter(
    (r) =>
      r.Type === "AWS::IAM::Policy" &&
      (r.Properties.Roles ?? []).some((ref) => ref.Ref.startsWith(roleLogicalIdPrefix)),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument?.Statement ?? []);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resolved = (v: unknown) => JSON.stringify(v);

describe("RetrainingWorkflow definition", () => {
  it("is valid ASL after extraction from the template", () => {
    const result = aslValidator(asl as never, { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it("resolves the substitutions to the task Lambda, the SageMaker role and the topic", () => {
    expect(asl.States[STATE.confirmLease]?.Resource).toMatch(
      /^arn:aws:lambda:us-east-1:000000000000:function:WorkflowTasks/,
    );
    const train = asl.States[STATE.trainChallenger]?.Parameters as Record<string, unknown>;
    expect(train.RoleArn).toMatch(/^arn:aws:iam::000000000000:role\/WorkflowSageMakerExecutionRole/);
    expect((asl.States[STATE.notifyFailure]!.Parameters as Record<string, unknown>).TopicArn).toMatch(
      /^arn:aws:sns:/,
    );
  });

  it("runs training as a .sync job with a timeout and throttling retries with full jitter", () => {
    const train = asl.States[STATE.trainChallenger]!;
    expect(train.Resource).toBe("arn:aws:states:::sagemaker:createTrainingJob.sync");
    // Longest max runtime of the configured models (60 and 120 min) plus one hour.
    expect(train.TimeoutSeconds).toBe(120 * 60 + 3600);
    const [retrier] = train.Retry as Record<string, unknown>[];
    expect(retrier).toMatchObject({ JitterStrategy: "FULL", BackoffRate: 2 });
    expect(retrier?.ErrorEquals).toContain("SageMaker.AmazonSageMakerException");
    expect(retrier?.ErrorEquals).not.toContain("States.ALL");
  });

  it("routes every Task and Parallel state to a failure handler or tolerates its failure", () => {
    for (const [name, state] of Object.entries(asl.States)) {
      if (state.Type !== "Task" && state.Type !== "Parallel") continue;
      const catches = (state.Catch as { ErrorEquals: string[]; Next: string }[] | undefined) ?? [];
      expect(
        catches.some((c) => c.ErrorEquals.includes("States.ALL")),
        `${name} has no catch-all`,
      ).toBe(true);
    }
  });

  it("bundles each model's plan with the task Lambda (the definition carries no copy of it)", () => {
    expect(asl.States[STATE.confirmLease]!.Parameters).not.toHaveProperty("models");
    expect(JSON.stringify(asl)).not.toContain("churn-train");
    const outdir = app.synth().directory;
    const bundles = readdirSync(outdir).filter(
      (d) => d.startsWith("asset.") && existsSync(join(outdir, d, MODEL_CATALOG_FILE)),
    );
    expect(bundles).toHaveLength(1);
    const bundled = parseModelCatalog(readFileSync(join(outdir, bundles[0]!, MODEL_CATALOG_FILE), "utf8"));
    expect(bundled).toEqual(catalog);
    expect(existsSync(join(outdir, bundles[0]!, "index.mjs"))).toBe(true);
  });

  it("plans canary/linear blue-green deployments with rollback alarms", () => {
    const models = catalog.models.map((m) => ({ id: m.id, ...m.retraining })) as unknown as {
      id: string;
      deployment: {
        deploymentConfig: {
          BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: unknown };
          AutoRollbackConfiguration: { Alarms: unknown };
        };
        endpointName: string;
      };
    }[];
    expect(models.map((m) => m.id)).toEqual(["churn", "eta"]);
    const churn = models[0]!.deployment.deploymentConfig;
    expect(churn.BlueGreenUpdatePolicy.TrafficRoutingConfiguration).toEqual({
      Type: "CANARY",
      CanarySize: { Type: "CAPACITY_PERCENT", Value: 10 },
      WaitIntervalInSeconds: 300,
    });
    expect(churn.AutoRollbackConfiguration.Alarms).toEqual([
      { AlarmName: "churn-prod-rollback-5xx-rate" },
      { AlarmName: "churn-prod-rollback-model-latency" },
    ]);
    expect(deploymentConfigOf(config.models[1]!).BlueGreenUpdatePolicy).toMatchObject({
      TrafficRoutingConfiguration: {
        Type: "LINEAR",
        LinearStepSize: { Type: "CAPACITY_PERCENT", Value: 25 },
      },
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { AlarmName: "churn-prod-rollback-5xx-rate" });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "eta-rollback-model-latency",
      MetricName: "ModelLatency",
      Namespace: "AWS/SageMaker",
    });
  });

  it("logs executions and traces them", () => {
    template.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: "ALL", IncludeExecutionData: false }),
    });
  });
});

describe("RetrainingWorkflow IAM", () => {
  it("lets SageMaker read only the dataset and artifact prefixes and write only the artifact prefix", () => {
    const stmts = statementsOf("WorkflowSageMakerExecutionRole");
    const s3 = stmts.filter((s) => actionsOf(s).some((a) => a.startsWith("s3:")));
    const get = s3.find((s) => actionsOf(s).includes("s3:GetObject"))!;
    const put = s3.find((s) => actionsOf(s).includes("s3:PutObject"))!;
    expect(resolved(get.Resource)).toContain("/retraining/datasets/*");
    expect(resolved(get.Resource)).toContain("/retraining/artifacts/*");
    expect(resolved(put.Resource)).toContain("/retraining/artifacts/*");
    expect(resolved(put.Resource)).not.toContain("datasets");
    // Never the whole bucket: every object ARN ends in a prefix of this workflow.
    for (const s of s3) expect(resolved(s.Resource)).not.toContain(',"/*"]');
  });

  it("scopes iam:PassRole to the execution role, passed to SageMaker only", () => {
    const pass = statementsOf("WorkflowStateMachineRole").filter((s) =>
      actionsOf(s).includes("iam:PassRole"),
    );
    expect(pass).toHaveLength(1);
    expect(resolved(pass[0]!.Resource)).toContain("WorkflowSageMakerExecutionRole");
    expect(pass[0]!.Condition).toEqual({
      StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" },
    });
  });

  it("scopes SageMaker jobs to the models' name prefixes and grants the .sync event rules", () => {
    const stmts = statementsOf("WorkflowStateMachineRole");
    const training = stmts.find((s) => actionsOf(s).includes("sagemaker:CreateTrainingJob"))!;
    expect(resolved(training.Resource)).toContain(`:sagemaker:${REGION}:${ACCOUNT}:training-job/churn-*`);
    expect(resolved(training.Resource)).toContain("training-job/eta-*");
    const rules = resolved(
      stmts.filter((s) => actionsOf(s).includes("events:PutRule")).map((s) => s.Resource),
    );
    expect(rules).toContain("rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule");
    expect(rules).toContain("rule/StepFunctionsGetEventsForSageMakerTransformJobsRule");
    // Only CDK's log-delivery and X-Ray statements lack resource-level permissions.
    const managed = (x: Statement) =>
      actionsOf(x).every((a) => a.startsWith("logs:") || a.startsWith("xray:"));
    for (const s of stmts.filter((x) => !managed(x))) {
      expect(s.Resource, actionsOf(s).join(",")).not.toBe("*");
    }
  });

  it("lets the task Lambda read the archive only under the configured models and the user data prefix", () => {
    const stmts = statementsOf("WorkflowTasks");
    const get = stmts.find(
      (s) => actionsOf(s).includes("s3:GetObject") && resolved(s.Resource).includes("churn/*"),
    )!;
    expect(resolved(get.Resource)).toContain("/eta/*");
    const user = stmts.find((s) => resolved(s.Resource).includes("user-data-bucket/eta/training/*"));
    expect(user).toBeDefined();
  });

  it("lets the task Lambda delete only the models' own challenger models and endpoint configs", () => {
    const stmt = statementsOf("WorkflowTasks").find((s) => actionsOf(s).includes("sagemaker:DeleteModel"))!;
    expect(actionsOf(stmt).sort()).toEqual(["sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"]);
    const resources = resolved(stmt.Resource);
    for (const r of ["model/churn-*", "endpoint-config/churn-*", "model/eta-*", "endpoint-config/eta-*"])
      expect(resources).toContain(r);
    expect(resources).not.toContain('"*"');
  });

  it("lets SageMaker and the state machine read the rollback alarms, and only those", () => {
    for (const prefix of ["WorkflowSageMakerExecutionRole", "WorkflowStateMachineRole"]) {
      const stmt = statementsOf(prefix).find((s) => actionsOf(s).includes("cloudwatch:DescribeAlarms"))!;
      expect(resolved(stmt.Resource)).toContain("WorkflowRollbackErrorschurn");
      expect(resolved(stmt.Resource)).not.toContain('"*"');
    }
  });

  it("lets the task Lambda register model packages only in the models' groups", () => {
    const stmt = statementsOf("WorkflowTasks").find((s) =>
      actionsOf(s).includes("sagemaker:CreateModelPackage"),
    )!;
    expect(resolved(stmt.Resource)).toContain("model-package-group/retrain-churn");
    expect(resolved(stmt.Resource)).toContain("model-package/retrain-eta/*");
    expect(catalog.models[0]!.retraining.modelPackageGroup).toBe("retrain-churn");
  });

  it("parses ECR repository ARNs from image URIs", () => {
    expect(ecrRepositoryArn(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/team/churn-train:1`)).toBe(
      `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/team/churn-train`,
    );
    expect(ecrRepositoryArn("public.ecr.aws/x/y:1")).toBeUndefined();
  });
});
