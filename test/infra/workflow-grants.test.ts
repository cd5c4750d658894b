/**
 * The state machine role grants exactly what the Task states of the synthesized definition need. The
 * needs are derived here, independently of the state builders: every Task state's `Resource` in the ASL
 * taken back out of the template is looked up in an explicit table of the IAM each Step Functions
 * integration requires, and the result must equal the role's policy, (action, resource, condition) by
 * (action, resource, condition). A state added without its grant, or a grant left without its state,
 * fails here.
 */
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { buildModelCatalog, rollbackAlarmNames } from "../../contracts/catalog";
import { loadConfig } from "../../contracts/config";
import type { RuntimeModel } from "../../contracts/model";
import { createRetrainApp } from "../../lib/stacks/retrain-app";
import { aslFromTemplate } from "../../local/asl";
import { synthWorkflow } from "../support/workflow-stack";

/** What a grant is scoped to, resolved against the template under test (see `expectedResources`). */
type Scope =
  | { readonly runResource: "training-job" | "transform-job" | "model" | "endpoint-config" }
  | { readonly eventsRule: string }
  | "endpoints"
  | "executionRole"
  | "taskFunction"
  | "taskFunctionVersions"
  | "topic"
  | "topicKey"
  | "rollbackAlarms";

interface Need {
  readonly actions: readonly string[];
  readonly on: readonly Scope[];
  readonly condition?: Record<string, unknown>;
}

const passRoleToSageMaker: Need = {
  actions: ["iam:PassRole"],
  on: ["executionRole"],
  condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
};
const syncRuleActions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"];
// Create calls carry the model tag: sagemaker:AddTags. ListTags, granted on `*` by the documented
// policies, is scoped to the same resources.
const tagging = ["sagemaker:AddTags", "sagemaker:ListTags"];
const publish: Need[] = [{ actions: ["sns:Publish"], on: ["topic"] }];
// Publishing to a topic encrypted with a customer-managed key also needs the key
// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
const publishEncrypted: Need = { actions: ["kms:Decrypt", "kms:GenerateDataKey*"], on: ["topicKey"] };

/**
 * IAM each integration of the definition needs, after the Step Functions service integration policies
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-integration-iam-templates.html):
 * SageMaker https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html (`.sync` jobs
 * also Describe*, Stop* and the managed StepFunctionsGetEventsFor... rule; iam:PassRole for what runs as
 * the execution role), SNS https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html, Lambda
 * https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html (the function and its versions
 * and aliases). aws-sdk integrations need the API's own action
 * (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html). Keyed by the
 * Task state's `Resource`; the task function's ARN is the key `lambda function`.
 */
const NEEDS: Readonly<Record<string, readonly Need[]>> = {
  "lambda function": [{ actions: ["lambda:InvokeFunction"], on: ["taskFunction", "taskFunctionVersions"] }],
  "arn:aws:states:::sagemaker:createTrainingJob.sync": [
    {
      actions: ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
      on: [{ runResource: "training-job" }],
    },
    { actions: tagging, on: [{ runResource: "training-job" }] },
    { actions: syncRuleActions, on: [{ eventsRule: "StepFunctionsGetEventsForSageMakerTrainingJobsRule" }] },
    passRoleToSageMaker,
  ],
  "arn:aws:states:::sagemaker:createModel": [
    { actions: ["sagemaker:CreateModel", ...tagging], on: [{ runResource: "model" }] },
    passRoleToSageMaker,
  ],
  "arn:aws:states:::sagemaker:createTransformJob.sync": [
    {
      actions: [
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:StopTransformJob",
        ...tagging,
      ],
      on: [{ runResource: "transform-job" }],
    },
    { actions: syncRuleActions, on: [{ eventsRule: "StepFunctionsGetEventsForSageMakerTransformJobsRule" }] },
  ],
  "arn:aws:states:::sagemaker:createEndpointConfig": [
    { actions: ["sagemaker:CreateEndpointConfig", ...tagging], on: [{ runResource: "endpoint-config" }] },
  ],
  // CreateEndpoint and UpdateEndpoint are authorized on the endpoint and on the configuration it gets.
  "arn:aws:states:::sagemaker:createEndpoint": [
    { actions: ["sagemaker:CreateEndpoint"], on: ["endpoints", { runResource: "endpoint-config" }] },
    { actions: tagging, on: ["endpoints"] },
  ],
  "arn:aws:states:::aws-sdk:sagemaker:updateEndpoint": [
    { actions: ["sagemaker:UpdateEndpoint"], on: ["endpoints", { runResource: "endpoint-config" }] },
    // Auto-rollback alarms of the DeploymentConfig are checked against the caller
    // (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html).
    { actions: ["cloudwatch:DescribeAlarms"], on: ["rollbackAlarms"] },
  ],
  "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint": [
    { actions: ["sagemaker:DescribeEndpoint"], on: ["endpoints"] },
  ],
  "arn:aws:states:::sns:publish": publish,
  "arn:aws:states:::sns:publish.waitForTaskToken": publish,
};

/**
 * Statements CDK's StateMachine adds itself for `logs` (vended log delivery) and `tracingEnabled`
 * (X-Ray). None of these actions supports resource-level permissions, so they are granted on `*`.
 */
const CDK_LOGGING_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
];
const CDK_TRACING_ACTIONS = [
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
];
const CDK_MANAGED_ACTIONS = new Set([...CDK_LOGGING_ACTIONS, ...CDK_TRACING_ACTIONS]);

type Json = Record<string, unknown>;
type Resources = Record<string, { Type: string; Properties: Json }>;
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

const listOf = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A CloudFormation value as readable text: `<LogicalId.Attr>`, `<Ref>`, `<import:Name>`, joins inlined. */
function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  const token = value as Json;
  if ("Ref" in token) return `<${String(token.Ref)}>`;
  if ("Fn::GetAtt" in token) return `<${(token["Fn::GetAtt"] as string[]).join(".")}>`;
  if ("Fn::ImportValue" in token) return `<import:${flatten(token["Fn::ImportValue"])}>`;
  if ("Fn::Join" in token) {
    const [separator, parts] = token["Fn::Join"] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  throw new Error(`unexpected CloudFormation value ${JSON.stringify(value)}`);
}

/** ARNs built by `Stack.formatArn` carry the partition, region and account as tokens or literals. */
const normalizeArn = (arn: string): string =>
  arn.replace(
    /^arn:(?:aws|<AWS::Partition>):([a-z0-9-]+):(?:<AWS::Region>|[a-z0-9-]*):(?:<AWS::AccountId>|\d*):/,
    "arn:<partition>:$1:<region>:<account>:",
  );

const tuple = (action: string, resource: string, condition: unknown): string =>
  `${action} on ${resource}${condition ? ` if ${JSON.stringify(condition)}` : ""}`;

/** Every Task state of the definition (Parallel branches and Map processors included), by name. */
function taskStates(states: Record<string, Json>): [string, Json][] {
  return Object.entries(states).flatMap(([name, state]): [string, Json][] => {
    const nested = [
      ...((state.Branches as { States: Record<string, Json> }[] | undefined) ?? []),
      ...[state.ItemProcessor, state.Iterator].filter(
        (processor): processor is { States: Record<string, Json> } => processor !== undefined,
      ),
    ].flatMap((machine) => taskStates(machine.States));
    return state.Type === "Task" ? [[name, state], ...nested] : nested;
  });
}

interface Case {
  readonly name: string;
  readonly template: { Resources: Resources; Outputs?: Json };
  readonly models: readonly RuntimeModel[];
  /** The topic key's ARN as the stateless template refers to it, when the topic is encrypted. */
  readonly topicKey?: string;
}

function workflowStackCase(): Case {
  const { template, catalog } = synthWorkflow({ bundle: false });
  return {
    name: "two-model test stack (unencrypted topic, task function given by the caller)",
    template: template.toJSON() as Case["template"],
    models: catalog.models,
  };
}

function appCase(): Case {
  const config = loadConfig("config/example.config.json");
  const built = createRetrainApp(config, {
    nag: false,
    appProps: { builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } },
  });
  const stateful = Template.fromStack(built.stateful).toJSON() as Case["template"];
  // The topic's key is exported by the stateful stack; the stateless stack imports it by export name.
  const topic = Object.values(stateful.Resources).find((resource) => resource.Type === "AWS::SNS::Topic")!;
  const [keyId] = (topic.Properties.KmsMasterKeyId as { "Fn::GetAtt": string[] })["Fn::GetAtt"];
  const keyExport = Object.values(stateful.Outputs as Record<string, { Value: unknown; Export: Json }>).find(
    (output) => JSON.stringify(output.Value) === JSON.stringify({ "Fn::GetAtt": [keyId, "Arn"] }),
  )!;
  return {
    name: "example app (KMS-encrypted topic from the stateful stack, bundled task function)",
    template: Template.fromStack(built.stateless).toJSON() as Case["template"],
    models: buildModelCatalog(config).models,
    topicKey: `<import:${flatten(keyExport.Export.Name)}>`,
  };
}

/** The resources a scope stands for in `testCase`, flattened and normalized like the granted ones. */
function expectedResources(scope: Scope, testCase: Case, substitutions: Record<string, string>): string[] {
  const ids = testCase.models.map((model) => model.id.toLowerCase());
  const sageMaker = (name: string) => `arn:<partition>:sagemaker:<region>:<account>:${name}`;
  if (typeof scope === "object" && "runResource" in scope)
    return ids.map((id) => sageMaker(`${scope.runResource}/${id}-*`));
  if (typeof scope === "object")
    return [`arn:<partition>:events:<region>:<account>:rule/${scope.eventsRule}`];
  switch (scope) {
    case "endpoints":
      return testCase.models.map((model) =>
        sageMaker(`endpoint/${model.retraining.deployment.endpointName.toLowerCase()}`),
      );
    case "executionRole":
      return [substitutions.SageMakerRoleArn!];
    case "taskFunction":
      return [substitutions.TaskFunctionArn!];
    case "taskFunctionVersions":
      return [`${substitutions.TaskFunctionArn}:*`];
    case "topic":
      return [substitutions.TopicArn!];
    case "topicKey":
      return [testCase.topicKey!];
    case "rollbackAlarms": {
      const names = testCase.models.flatMap((model) =>
        Object.values(rollbackAlarmNames(model.retraining.deployment.endpointName)),
      );
      const alarms = Object.entries(testCase.template.Resources).filter(
        ([, resource]) =>
          resource.Type === "AWS::CloudWatch::Alarm" && names.includes(String(resource.Properties.AlarmName)),
      );
      if (alarms.length !== names.length) throw new Error(`expected the rollback alarms ${names.join(", ")}`);
      return alarms.map(([id]) => `<${id}.Arn>`);
    }
  }
}

function analyse(testCase: Case) {
  const resources = testCase.template.Resources;
  const [, machine] = Object.entries(resources).find(
    ([, resource]) => resource.Type === "AWS::StepFunctions::StateMachine",
  )!;
  const roleId = (machine.Properties.RoleArn as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!;
  const statements = Object.values(resources)
    .filter(
      (resource) =>
        resource.Type === "AWS::IAM::Policy" &&
        (resource.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

  const substitutions = Object.fromEntries(
    Object.entries(machine.Properties.DefinitionSubstitutions as Json).map(([name, value]) => [
      name,
      flatten(value),
    ]),
  );
  const asl = aslFromTemplate(testCase.template) as { States: Record<string, Json> };
  const needs = taskStates(asl.States).flatMap(([name, state]) => {
    const resource = String(state.Resource);
    const key = resource.startsWith("arn:aws:lambda:") ? "lambda function" : resource;
    const found = NEEDS[key];
    if (!found) throw new Error(`no IAM mapping for ${resource} (state ${name}): add it to NEEDS`);
    const encrypted = key.startsWith("arn:aws:states:::sns:") && testCase.topicKey ? [publishEncrypted] : [];
    return [...found, ...encrypted];
  });
  const required = needs.flatMap((need) =>
    need.actions.flatMap((action) =>
      need.on.flatMap((scope) =>
        expectedResources(scope, testCase, substitutions).map((resource) =>
          tuple(action, resource, need.condition),
        ),
      ),
    ),
  );
  const granted = statements.flatMap((statement) =>
    listOf(statement.Action)
      .filter((action) => !CDK_MANAGED_ACTIONS.has(action))
      .flatMap((action) =>
        listOf(statement.Resource).map((resource) =>
          tuple(action, normalizeArn(flatten(resource)), statement.Condition),
        ),
      ),
  );
  const unique = (values: string[]) => [...new Set(values)].sort();
  return {
    statements,
    tasks: taskStates(asl.States),
    requiredActions: unique(needs.flatMap((need) => [...need.actions])),
    grantedActions: unique(
      statements
        .flatMap((statement) => listOf(statement.Action))
        .filter((action) => !CDK_MANAGED_ACTIONS.has(action)),
    ),
    required: unique(required),
    granted: unique(granted),
  };
}

const cases = [workflowStackCase(), appCase()];

describe.each(cases)("state machine role of the $name", (testCase) => {
  const result = analyse(testCase);

  it("has only Allow statements", () => {
    expect(result.statements.map((statement) => statement.Effect)).toEqual(
      result.statements.map(() => "Allow"),
    );
  });

  it("maps every integration the definition uses, and none it does not use", () => {
    const resources = new Set(result.tasks.map(([, state]) => String(state.Resource)));
    expect([...resources].filter((resource) => resource.startsWith("arn:aws:states:::")).sort()).toEqual(
      Object.keys(NEEDS)
        .filter((key) => key !== "lambda function")
        .sort(),
    );
    expect([...resources].some((resource) => resource.startsWith("arn:aws:lambda:"))).toBe(true);
  });

  it("grants exactly the actions the Task states need", () => {
    expect(result.grantedActions).toEqual(result.requiredActions);
  });

  it("grants them on exactly the resources and conditions those states use", () => {
    expect(result.granted).toEqual(result.required);
  });

  it("grants `*` only to CDK's logging and tracing actions, which support no resource-level permissions", () => {
    const unscoped = result.statements.filter((statement) => listOf(statement.Resource).includes("*"));
    expect(unscoped.flatMap((statement) => listOf(statement.Action)).sort()).toEqual(
      [...CDK_MANAGED_ACTIONS].sort(),
    );
  });
});

describe("the IAM mapping table", () => {
  it("grants tagging wherever a SageMaker create carries Tags", () => {
    const { tasks } = analyse(cases[0]!);
    for (const [name, state] of tasks) {
      if (!(state.Parameters as Json | undefined)?.Tags) continue;
      const actions = NEEDS[String(state.Resource)]!.flatMap((need) => need.actions);
      expect(actions, name).toContain("sagemaker:AddTags");
    }
  });
});
