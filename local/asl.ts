/**
 * The retraining definition outside AWS, without CDK: takes the deployed definition back out of a
 * synthesized template (local mode runs exactly what would be deployed), wires the task-Lambda states to
 * an in-process dispatcher, and renders the state builders with fake ARNs for tests. Used only by local
 * mode (local/workflow.ts) and the tests, hence here and not in lib/, where the construct and the state
 * builders live (lib/constructs/workflow/).
 */
import { rollbackAlarmNames } from "../contracts/catalog";
import type { RuntimeModel } from "../contracts/model";
import { TASK_LAMBDA_STATES } from "../contracts/workflow";
import {
  buildRetrainingWorkflow,
  DEFAULT_TIMEOUTS,
  definitionSubstitutions,
  type RetrainingWorkflowDefinition,
  type WorkflowTimeouts,
} from "../lib/constructs/workflow/definition";
import { type WorkflowResources, workflowResources } from "../lib/constructs/workflow/resources";

/**
 * aws-local-stepfunctions `taskResourceLocalHandlers` for the task-Lambda states, calling an in-process
 * dispatcher such as `createWorkflowTasks(deps).handle`. The state's Parameters are exactly the event.
 */
export function taskLambdaOverrides(
  handle: (event: { action: string } & Record<string, unknown>) => Promise<unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: matches the interpreter's JSONValue handler type without importing it
): Record<string, (input: any) => Promise<any>> {
  return Object.fromEntries(
    TASK_LAMBDA_STATES.map((name) => [
      name,
      (input: unknown) => handle(input as { action: string } & Record<string, unknown>),
    ]),
  );
}

/** Values used for tokens when a synthesized template is turned back into runnable ASL. */
export interface FakeArnOptions {
  readonly region?: string;
  readonly account?: string;
}

type CfnValue = unknown;

/**
 * Extracts the state machine definition from a synthesized CloudFormation template (the result of
 * `Template.fromStack(stack).toJSON()` or a cdk.out `*.template.json`) and returns it as ASL, with
 * `DefinitionSubstitutions` applied and CloudFormation tokens (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::ImportValue, pseudo parameters) resolved to deterministic fake ARNs. Local mode overrides every Task state that
 * would touch AWS, so the fake ARNs are never called; they only need to be well-formed.
 *
 * @param logicalIdPrefix picks the state machine when the template holds several (default: the only
 * `AWS::StepFunctions::StateMachine`, or the first whose logical id starts with the prefix).
 */
export function aslFromTemplate(
  template: { Resources?: Record<string, { Type: string; Properties?: Record<string, CfnValue> }> },
  logicalIdPrefix?: string,
  opts: FakeArnOptions = {},
): Record<string, unknown> {
  const region = opts.region ?? "us-east-1";
  const account = opts.account ?? "000000000000";
  const resources = template.Resources ?? {};
  const machines = Object.entries(resources).filter(
    ([id, r]) =>
      r.Type === "AWS::StepFunctions::StateMachine" && (!logicalIdPrefix || id.startsWith(logicalIdPrefix)),
  );
  const found = machines[0];
  if (!found)
    throw new Error(
      `no AWS::StepFunctions::StateMachine${logicalIdPrefix ? ` matching ${logicalIdPrefix}` : ""}`,
    );
  const props = found[1].Properties ?? {};

  const fakeArn = (logicalId: string): string => {
    const type = resources[logicalId]?.Type ?? "";
    switch (type) {
      case "AWS::Lambda::Function":
        return `arn:aws:lambda:${region}:${account}:function:${logicalId}`;
      case "AWS::IAM::Role":
        return `arn:aws:iam::${account}:role/${logicalId}`;
      case "AWS::SNS::Topic":
        return `arn:aws:sns:${region}:${account}:${logicalId}`;
      case "AWS::S3::Bucket":
        return `arn:aws:s3:::${logicalId.toLowerCase()}`;
      case "AWS::DynamoDB::Table":
        return `arn:aws:dynamodb:${region}:${account}:table/${logicalId}`;
      default:
        return `arn:aws:local:${region}:${account}:${logicalId}`;
    }
  };
  const pseudo: Record<string, string> = {
    "AWS::Region": region,
    "AWS::AccountId": account,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "local",
  };
  const resolve = (v: CfnValue): string => {
    if (typeof v === "string") return v;
    if (typeof v !== "object" || v === null) return String(v);
    const o = v as Record<string, unknown>;
    if ("Ref" in o) {
      const ref = String(o.Ref);
      if (pseudo[ref] !== undefined) return pseudo[ref];
      // Ref of a topic is its ARN; of a function or table its name.
      const type = resources[ref]?.Type;
      return type === "AWS::SNS::Topic" || type === "AWS::IAM::Role" ? fakeArn(ref) : ref;
    }
    if ("Fn::GetAtt" in o) {
      const [id] = o["Fn::GetAtt"] as [string, string];
      return fakeArn(id);
    }
    if ("Fn::ImportValue" in o) {
      // Cross-stack reference (e.g. the topic of the stateful stack): a well-formed stand-in.
      const name = resolve(o["Fn::ImportValue"]).replace(/[^A-Za-z0-9-]/g, "-");
      return `arn:aws:local:${region}:${account}:import/${name}`;
    }
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, CfnValue[]];
      return parts.map(resolve).join(sep);
    }
    if ("Fn::Sub" in o) {
      const arg = o["Fn::Sub"];
      const [text, vars] = Array.isArray(arg)
        ? (arg as [string, Record<string, CfnValue>])
        : [String(arg), {}];
      return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) =>
        vars[name] !== undefined ? resolve(vars[name]) : (pseudo[name] ?? fakeArn(name.split(".")[0]!)),
      );
    }
    throw new Error(`unsupported CloudFormation token in definition: ${JSON.stringify(v).slice(0, 200)}`);
  };

  let text = resolve(props.DefinitionString);
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, CfnValue>;
  text = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) =>
    substitutions[name] !== undefined ? resolve(substitutions[name]) : m,
  );
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * The workflow's resources with fake ARNs in one account and region, for rendering the state builders
 * without CDK: endpoints and run resources from the models, a task function, role and topic named after
 * their role in the workflow, and the models' rollback alarms.
 */
export function fakeWorkflowResources(
  models: readonly Pick<RuntimeModel, "id" | "retraining">[],
  opts: FakeArnOptions = {},
): WorkflowResources {
  const region = opts.region ?? "us-east-1";
  const account = opts.account ?? "000000000000";
  return workflowResources(
    models,
    (service, resourceType, resourceName) =>
      `arn:aws:${service}:${region}:${account}:${resourceType}/${resourceName}`,
    {
      taskFunctionArn: `arn:aws:lambda:${region}:${account}:function:retraining-tasks`,
      executionRoleArn: `arn:aws:iam::${account}:role/retraining-sagemaker`,
      topicArn: `arn:aws:sns:${region}:${account}:retraining-alerts`,
      rollbackAlarmArns: models.flatMap((model) =>
        Object.values(rollbackAlarmNames(model.retraining.deployment.endpointName)).map(
          (name) => `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`,
        ),
      ),
    },
  );
}

/**
 * The definition built from the state builders with its placeholders replaced by `resources` (e.g.
 * {@link fakeWorkflowResources}), and the grants the states declare on those resources.
 */
export function renderRetrainingDefinition(
  resources: WorkflowResources,
  timeouts: WorkflowTimeouts = DEFAULT_TIMEOUTS,
): RetrainingWorkflowDefinition {
  const { definition, grants } = buildRetrainingWorkflow(resources, timeouts);
  const values = definitionSubstitutions(resources);
  const text = JSON.stringify(definition).replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, name: string) =>
    values[name] !== undefined ? values[name] : match,
  );
  return { definition: JSON.parse(text) as Record<string, unknown>, grants };
}
